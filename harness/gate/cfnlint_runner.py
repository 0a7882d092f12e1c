"""cfn-lint, run as a library: every error and warning is a gate finding."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import ManualArgs, lint_by_config

from harness.gate.findings import Finding

_SEVERITY = {"error": "HIGH", "warning": "MEDIUM"}


def lint(templates: list[Path], regions: list[str] | None = None) -> list[Finding]:
    """cfn-lint errors and warnings (informational matches are dropped).

    One run for all templates, so the rules load once. Regions default to each template's
    own ``Metadata: cfn-lint`` configuration (else us-east-1).
    """
    if not templates:
        return []
    config = ManualArgs(templates=[str(t) for t in templates])
    if regions:
        config["regions"] = regions
    findings = []
    for match in lint_by_config(config):
        severity = _SEVERITY.get(match.rule.severity)
        if severity is None:
            continue
        path = list(match.path or [])
        resource = (
            str(path[1])
            if len(path) > 1 and path[0] == "Resources"
            else "/".join(str(p) for p in path[:2]) or "template"
        )
        findings.append(
            Finding(
                tool="cfn-lint",
                file=str(match.filename),
                resource=resource,
                check_id=match.rule.id,
                title=match.rule.shortdesc,
                detail=match.message,
                severity=severity,
                line=match.linenumber,
                fix=f"{match.rule.description} ({match.rule.source_url})",
            )
        )
    return findings
