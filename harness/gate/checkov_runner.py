"""checkov, run offline in a subprocess with our custom checks and justified skips.

checkov pins an old ``packaging`` and so lives in its own virtualenv; this module never
imports it. Offline means: ``--skip-download`` (no policy metadata or guidelines from the
platform), ``BC_SKIP_MAPPING`` (no check-id mapping download), no API key, and
``CKV_SKIP_PACKAGE_UPDATE_CHECK`` (no PyPI version check when checkov prints its banner).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import harness
from harness.gate.findings import Finding
from harness.yaml_safe import safe_load

TIMEOUT_SECONDS = 300
OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
}
_LOAD_FAILURE = "Cannot load external check"
# Environment that would switch checkov to the online platform.
_PLATFORM_ENV = ("BC_API_KEY", "PRISMA_API_URL", "BC_API_URL")


class CheckovError(RuntimeError):
    """checkov could not be found or did not produce a report."""


def checkov_command() -> list[str]:
    """How to start checkov: ``$CHECKOV``, else beside this interpreter, else on PATH."""
    configured = os.environ.get("CHECKOV")
    if configured:
        if not (Path(configured).is_file() or shutil.which(configured)):
            raise CheckovError(f"CHECKOV={configured} is not an executable checkov")
        return [configured]
    beside = Path(sys.executable).with_name("checkov")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("checkov")
    if found:
        return [found]
    raise CheckovError(
        "checkov not found: run the gate in its own environment (tox -e gate) or set CHECKOV "
        "to the checkov executable of a virtualenv that has it"
    )


def load_skips(skips_file: Path) -> dict[str, str]:
    """Stock checks we skip, each with its reason (a skip without a reason is an error)."""
    if not skips_file.exists():
        return {}
    entries = (safe_load(skips_file.read_text()) or {}).get("skips") or []
    skips = {}
    for entry in entries:
        reason = str(entry.get("reason", "")).strip()
        if not reason:
            raise CheckovError(f"{skips_file}: skip of {entry.get('id')} has no reason")
        skips[str(entry["id"])] = reason
    return skips


def scan(templates: list[Path], checks_dir: Path, skips: dict[str, str]) -> list[Finding]:
    """Failed checkov checks (stock and ours) for the templates."""
    if not templates:
        return []
    if not (checks_dir / "__init__.py").is_file():
        # checkov would note this at INFO level and run without our checks.
        raise CheckovError(f"no custom checks package at {checks_dir} (needs __init__.py)")
    command = [
        *checkov_command(),
        "--framework",
        "cloudformation",
        "--external-checks-dir",
        str(checks_dir),
        "--skip-download",
        "--output",
        "json",
        "--compact",
    ]
    for template in templates:
        command += ["--file", str(template)]
    if skips:
        command += ["--skip-check", ",".join(sorted(skips))]
    env = {k: v for k, v in os.environ.items() if k not in _PLATFORM_ENV}
    env.update(OFFLINE_ENV)
    package_root = str(Path(harness.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    completed = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=TIMEOUT_SECONDS, check=False
    )
    if completed.returncode not in (0, 1):
        raise CheckovError(f"checkov exited {completed.returncode}: {completed.stderr[-2000:]}")
    if _LOAD_FAILURE in completed.stderr:
        # checkov only logs a custom check that fails to import, then runs without it.
        raise CheckovError(f"a custom check did not load: {completed.stderr[-2000:]}")
    reports = _parse(completed.stdout, completed.stderr)
    _require_every_template_checked(templates, reports)
    return _findings(reports)


def _require_every_template_checked(templates: list[Path], reports: list[dict[str, Any]]) -> None:
    """Fail unless our checks ran on every template.

    CKV_XACCT_019 applies to every resource, so a template without one of our results was
    not read as CloudFormation by checkov (or has no resources) and must not count as passed.
    """
    checked = {
        Path(record.get("file_abs_path") or record["file_path"]).resolve()
        for report in reports
        for kind in ("passed_checks", "failed_checks", "skipped_checks")
        for record in report["results"].get(kind, [])
        if record["check_id"].startswith("CKV_XACCT")
    }
    unchecked = [str(t) for t in templates if t.resolve() not in checked]
    if unchecked:
        raise CheckovError(f"checkov checked no resource of: {', '.join(unchecked)}")


def _parse(stdout: str, stderr: str) -> list[dict[str, Any]]:
    try:
        report = json.loads(stdout)
    except ValueError as error:
        raise CheckovError(f"checkov printed no JSON report: {stderr[-2000:]}") from error
    reports = report if isinstance(report, list) else [report]
    return [r for r in reports if isinstance(r, dict) and "results" in r]


def _findings(reports: list[dict[str, Any]]) -> list[Finding]:
    findings = []
    for report in reports:
        results = report["results"]
        # A check skipped by checkov's own inline Metadata is a finding here too: the gate
        # reports it as skipped with its comment, or fails it for want of one (skips.py).
        inline = [
            r
            for r in results.get("skipped_checks", [])
            if "suppress_comment" in r.get("check_result", {})
        ]
        for failed in [*results.get("failed_checks", []), *inline]:
            where = failed.get("check_result", {}).get("evaluated_keys") or []
            # evaluated_keys of our checks name the offending path and value (see
            # policies/checks/xacct_check_base.py); for stock checks they are only inputs.
            ours = failed["check_id"].startswith("CKV_XACCT")
            detail = "; ".join(where) if ours else ""
            line_range = failed.get("file_line_range") or [None]
            findings.append(
                Finding(
                    tool="checkov",
                    file=failed.get("file_abs_path") or failed["file_path"],
                    resource=failed["resource"].split(".", 1)[-1],
                    check_id=failed["check_id"],
                    title=failed["check_name"],
                    detail=detail,
                    fix=failed.get("guideline")
                    or "see the checkov documentation for " + failed["check_id"],
                    severity=str(failed.get("severity") or "HIGH"),
                    line=line_range[0],
                )
            )
    return findings
