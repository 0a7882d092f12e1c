"""SARIF 2.1.0 (what code scanning reads), one writer for every command that finds problems:
the gate's static findings and the failed checks of a live run alike.

Rules of ours carry their full metadata (``harness.rules``); a skipped finding is a result
with a suppression (``inSource`` for an inline skip, ``external`` otherwise) and its reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.gate.findings import Finding

if TYPE_CHECKING:
    from harness.gate.skips import Skipped
    from harness.rules import Rule

_LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}
# GitHub code scanning ranks security results by this 0-10 score.
_SECURITY_SEVERITY = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "3.0"}


def relative(path: str, root: Path) -> str:
    """``path`` as a URI relative to ``root`` where it lies under it (code scanning resolves
    locations against the checkout)."""
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _rule(finding: Finding, ours: Rule | None) -> dict[str, Any]:
    """A reportingDescriptor: our metadata where the rule is ours, else the tool's words."""
    if ours is None:
        return {
            "id": finding.check_id,
            "shortDescription": {"text": finding.title},
            "help": {"text": finding.fix},
            "properties": {"security-severity": _SECURITY_SEVERITY.get(finding.severity, "8.0")},
        }
    return {
        "id": ours.id,
        "shortDescription": {"text": ours.title},
        "fullDescription": {"text": ours.description},
        "helpUri": ours.doc_url,
        "help": {"text": f"{ours.fix} ({ours.doc_url})"},
        "defaultConfiguration": {"level": _LEVEL[ours.severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[ours.severity],
            "tags": ["security"],
        },
    }


def _result(finding: Finding, root: Path, skip: Skipped | None) -> dict[str, Any]:
    region = {"region": {"startLine": finding.line}} if finding.line else {}
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "level": _LEVEL.get(finding.severity, "error"),
        "message": {"text": f"{finding.resource}: {finding.message}. Fix: {finding.fix}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": relative(finding.file, root)},
                    **region,
                }
            }
        ],
    }
    if skip is not None:
        kind = "inSource" if skip.by == "inline" else "external"
        result["suppressions"] = [{"kind": kind, "justification": skip.reason}]
    return result


def write_sarif(
    findings: Iterable[Finding],
    target: Path,
    root: Path,
    tools: Sequence[str],
    skipped: Iterable[Skipped] = (),
    rules: Mapping[str, Rule] | None = None,
) -> None:
    """One SARIF run per tool (also for a tool that found nothing, so code scanning closes
    its earlier alerts), with a rule entry per check id that fired or was skipped."""
    findings, skipped, ours = list(findings), list(skipped), rules or {}
    runs = []
    for tool in tools:
        failing = [(f, None) for f in findings if f.tool == tool]
        suppressed = [(s.finding, s) for s in skipped if s.finding.tool == tool]
        fired = {f.check_id: f for f, _ in failing + suppressed}
        runs.append(
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "rules": [_rule(f, ours.get(i)) for i, f in sorted(fired.items())],
                    }
                },
                "results": [_result(f, root, s) for f, s in failing + suppressed],
            }
        )
    document = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": runs,
    }
    target.write_text(json.dumps(document, indent=2) + "\n")
