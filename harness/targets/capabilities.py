"""The capability table of every target, as Markdown, from what the targets declare.

``python -m harness.targets.capabilities`` prints it for the README; nothing in it is written
by hand, so it cannot drift from what the targets claim (and skip on).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from harness.targets.base import Capability, Target

YES, NO, MEASURED = "yes", "no", "measured at start"


def _cell(target: type[Target], capability: Capability) -> str:
    if capability in target.capabilities:
        return YES
    if capability in target.measured_capabilities:
        return MEASURED
    return NO


def capability_table(targets: Mapping[str, type[Target]]) -> str:
    """One row per capability, one column per target; "measured at start" marks what a
    target claims only if its probes show it (see its ``probe_results`` after start)."""
    names = list(targets)
    lines = [
        "| capability | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for capability in Capability:
        cells = [_cell(targets[n], capability) for n in names]
        lines.append(f"| {capability.description} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def registered_targets() -> dict[str, type[Target]]:
    """The target classes ``--target`` knows, from the harness's one registry."""
    from harness.deploy.targets import TARGETS  # the registry lives with the deploy layer

    classes = {}
    for name, spec in TARGETS.items():
        module, attribute = spec.split(":")
        classes[name] = getattr(importlib.import_module(module), attribute)
    return classes


def main() -> None:
    print(capability_table(registered_targets()), end="")


if __name__ == "__main__":
    main()
