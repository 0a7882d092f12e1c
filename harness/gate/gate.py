"""The static policy gate: cfn-lint, checkov with our checks, the gate's own checks, and the
proof of the promises (``harness prove``) on the templates.

``run_gate`` checks every CloudFormation template (and CodePipeline definition) under the
given paths and writes SARIF and JUnit reports; ``main`` is the ``harness gate`` command.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.gate import cfnlint_runner, checkov_runner, document_checks, proof_checks
from harness.gate.findings import Finding
from harness.gate.report import write_junit, write_sarif
from harness.gate.sources import Document, discover, load

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class GateResult:
    """What the gate checked, what it found, and where it wrote its reports."""

    findings: list[Finding]
    documents: list[Document]
    reports: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the proof could not prove, and why

    @property
    def passed(self) -> bool:
        return not self.findings


def policies_dir() -> Path:
    """``policies/`` of the source tree, else of the working directory (installed package)."""
    beside = REPO_ROOT / "policies"
    return beside if beside.is_dir() else Path.cwd() / "policies"


def run_gate(paths: list[Path], report_dir: Path, regions: list[str] | None = None) -> GateResult:
    """Check every template and pipeline definition under ``paths``; write the reports.

    Raises ``checkov_runner.CheckovError`` when checkov cannot be run: a gate that could
    not check must not pass.
    """
    documents = [d for d in (load(p) for p in discover(paths)) if d is not None]
    templates = [d.path for d in documents if d.kind == "template"]
    findings: list[Finding] = [
        Finding(
            tool="gate",
            file=str(d.path),
            resource="file",
            check_id="PARSE",
            title="cannot parse",
            detail=d.error,
            fix="fix the YAML/JSON syntax",
        )
        for d in documents
        if d.kind == "unreadable"
    ]
    findings += cfnlint_runner.lint(templates, regions)
    policies = policies_dir()
    skips = checkov_runner.load_skips(policies / "checkov-skips.yaml")
    findings += checkov_runner.scan(templates, policies / "checks", skips)
    for document in documents:
        findings += document_checks.check(document)
    proved, proven, notes = proof_checks.check(templates)
    findings += proved
    findings.sort(key=lambda f: (f.file, f.line or 0, f.check_id, f.resource))

    report_dir.mkdir(parents=True, exist_ok=True)
    reports = {"sarif": report_dir / "gate.sarif", "junit": report_dir / "gate-junit.xml"}
    root = Path.cwd().resolve()
    write_sarif(findings, reports["sarif"], root)
    checked = {
        "cfn-lint": templates,
        "checkov": templates,
        "gate": [d.path for d in documents],
        "prove": proven,
    }
    write_junit(findings, checked, reports["junit"], root)
    return GateResult(findings, documents, reports, notes)


def main(argv: list[str] | None = None) -> int:
    """``harness gate [PATH ...]``: 0 when clean, 1 on any finding, 2 when it cannot run."""
    parser = argparse.ArgumentParser(prog="harness gate", description=__doc__)
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("infra")],
        help="templates or directories to check (default: infra/)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports/gate"),
        help="where to write gate.sarif and gate-junit.xml",
    )
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        help="regions cfn-lint validates against (default: each template's "
        "cfn-lint Metadata, else us-east-1)",
    )
    args = parser.parse_args(argv)
    try:
        result = run_gate(args.paths, args.report_dir, args.regions)
    except (checkov_runner.CheckovError, FileNotFoundError) as error:
        print(f"gate: cannot run: {error}", file=sys.stderr)
        return 2
    for finding in result.findings:
        print(finding.line_text())
    for note in result.notes:
        print(f"note: {note}")
    checked = len(result.documents)
    verdict = "FAILED" if result.findings else "passed"
    print(
        f"gate {verdict}: {len(result.findings)} finding(s) in {checked} file(s); "
        f"reports in {args.report_dir}"
    )
    return 1 if result.findings else 0
