"""SARIF 2.1.0 (what code scanning reads), one writer for every command that finds problems:
the gate's static findings and the failed checks of a live run alike."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.gate.findings import Finding

_LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}


def relative(path: str, root: Path) -> str:
    """``path`` as a URI relative to ``root`` where it lies under it (code scanning resolves
    locations against the checkout)."""
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def write_sarif(
    findings: Iterable[Finding], target: Path, root: Path, tools: Sequence[str]
) -> None:
    """One SARIF run per tool (also for a tool that found nothing, so code scanning closes
    its earlier alerts), with a rule entry per check id that fired."""
    findings = list(findings)
    runs = []
    for tool in tools:
        mine = [f for f in findings if f.tool == tool]
        rules = {f.check_id: f for f in mine}
        runs.append(
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "rules": [
                            {
                                "id": rule_id,
                                "shortDescription": {"text": f.title},
                                "help": {"text": f.fix},
                            }
                            for rule_id, f in sorted(rules.items())
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f.check_id,
                        "level": _LEVEL.get(f.severity, "error"),
                        "message": {"text": f"{f.resource}: {f.message}. Fix: {f.fix}"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": relative(f.file, root)},
                                    **({"region": {"startLine": f.line}} if f.line else {}),
                                }
                            }
                        ],
                    }
                    for f in mine
                ],
            }
        )
    document = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": runs,
    }
    target.write_text(json.dumps(document, indent=2) + "\n")
