"""Targets by name, as ``--target`` spells them; a target module is imported only when chosen.

A target registers by adding one line here. It lives with the targets, below the deploy layer
that uses it, so that the capability table can list the targets without importing deploy.
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.targets.base import Target

TARGETS: dict[str, str] = {
    "local": "harness.targets.local:LocalTarget",
    "localstack": "harness.targets.localstack:LocalStackTarget",
    "aws": "harness.targets.aws:AwsTarget",
}


def make_target(name: str, **options: Any) -> Target:
    """A new, unstarted target called ``name``, made with the target's own ``options``."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; known targets: {', '.join(sorted(TARGETS))}")
    module_name, class_name = TARGETS[name].split(":")
    factory: Any = getattr(importlib.import_module(module_name), class_name)
    target: Target = factory(**options)
    return target
