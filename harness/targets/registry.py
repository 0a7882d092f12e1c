"""Targets by name, as ``--target`` spells them; a target module is imported only when chosen.

A target registers by adding one line here. It lives with the targets, below the deploy layer
that uses it, so that the capability table can list the targets without importing deploy.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from harness.targets.base import Target

TARGETS: dict[str, str] = {
    "local": "harness.targets.local:LocalTarget",
    "localstack": "harness.targets.localstack:LocalStackTarget",
    "aws": "harness.targets.aws:AwsTarget",
}

SERVED: dict[str, str] = {"local": "harness.targets.local.attached:from_environment"}
"""Targets that may instead be one another process serves (``harness serve``): the function
returns it when the environment names it, else None."""


def load(reference: str) -> Any:
    """What ``module:attribute`` names (a target class, a factory), imported on demand."""
    module_name, name = reference.split(":")
    return getattr(importlib.import_module(module_name), name)


def make_target(name: str, **options: Any) -> Target:
    """A new, unstarted target called ``name``, made with the target's own ``options``; for
    a target some other process serves (:data:`SERVED`), that one, which takes none."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; known targets: {', '.join(sorted(TARGETS))}")
    served: Target | None = load(SERVED[name])(os.environ) if name in SERVED else None
    if served is not None:
        if options:
            raise ValueError(
                f"{', '.join(sorted(options))}: needs a {name} target this command starts; the "
                "environment names one that another process serves (harness serve)"
            )
        return served
    target: Target = load(TARGETS[name])(**options)
    return target
