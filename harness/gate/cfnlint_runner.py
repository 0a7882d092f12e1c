"""cfn-lint, run as a library: every error and warning is a gate finding."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import ManualArgs, lint_file

from harness.gate.findings import Finding

_SEVERITY = {"error": "HIGH", "warning": "MEDIUM"}


def lint(template: Path, regions: list[str]) -> list[Finding]:
    """cfn-lint errors and warnings for one template (informational matches are dropped)."""
    findings = []
    for match in lint_file(template, ManualArgs(regions=regions)):
        severity = _SEVERITY.get(match.rule.severity)
        if severity is None:
            continue
        path = list(match.path or [])
        resource = str(path[1]) if len(path) > 1 and path[0] == "Resources" else "/".join(
            str(p) for p in path[:2]) or "template"
        findings.append(Finding(
            tool="cfn-lint", file=str(template), resource=resource, check_id=match.rule.id,
            message=match.message, severity=severity, line=match.linenumber,
            fix=f"{match.rule.shortdesc} ({match.rule.source_url})"))
    return findings
