"""The capability table of every target, as Markdown, from what the targets declare.

``python -m harness.targets.capabilities`` prints it for the README; nothing in it is written
by hand, so it cannot drift from what the targets claim (and skip on). With ``--measure`` it
also starts each target whose capabilities are measured and prints what its probes found.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from harness.targets.base import Capability, Target
from harness.targets.localstack.probes import ProbeResult
from harness.targets.registry import TARGETS, load

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


def registered_targets(names: Sequence[str] | None = None) -> dict[str, type[Target]]:
    """The target classes ``--target`` knows (or those of ``names``), from the harness's one
    registry; only the chosen ones are imported."""
    classes = {}
    for name in names or TARGETS:
        classes[name] = load(TARGETS[name])
    return classes


def measured_table(version: str, results: Sequence[ProbeResult]) -> str:
    """What the probes of one started target found, and what they saw."""
    lines = [
        f"Measured on {version}:",
        "",
        "| capability | measured | what the probe saw |",
        "|---|---|---|",
    ]
    lines += [
        f"| {r.capability.description} | {YES if r.enforced else NO} | {r.detail} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--measure",
        action="append",
        default=[],
        metavar="TARGET",
        help="start TARGET and print what its probes measured, instead of the table",
    )
    args = parser.parse_args(argv)
    if not args.measure:
        print(capability_table(registered_targets()), end="")
        return
    for name, target_class in registered_targets(args.measure).items():
        with target_class() as started:
            version = getattr(started, "version", name)
            print(measured_table(version, getattr(started, "probe_results", [])), end="")


if __name__ == "__main__":
    main()
