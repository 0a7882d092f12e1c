"""The static policy gate: cfn-lint, checkov with our checks, the gate's own checks, and the
proof of the promises (``harness prove``) on the templates.

``run_gate`` checks every CloudFormation template (and CodePipeline definition) under the
given paths and writes SARIF and JUnit reports; ``main`` is the ``harness gate`` command.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.exit_codes import exit_codes_help
from harness.gate import baseline, cfnlint_runner, checkov_runner, document_checks, proof_checks
from harness.gate.findings import Finding
from harness.gate.report import write_junit, write_sarif
from harness.gate.skips import Skipped, inline_skips, select
from harness.gate.sources import Document, discover, load
from harness.project_policies import policies_dir
from harness.rules import gate_rules
from harness.validation import Inputs, given_paths, refuse

UNPARSABLE = gate_rules()["GATE_001"]


@dataclass
class GateResult:
    """What the gate checked, what fails it, what it skipped and why, and its reports."""

    findings: list[Finding]
    documents: list[Document]
    reports: dict[str, Path] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    baseline_fixed: int = 0  # accepted findings of the baseline that are gone
    notes: list[str] = field(default_factory=list)  # what the proof could not prove, and why

    @property
    def passed(self) -> bool:
        return not self.findings


def run_gate(
    paths: list[Path],
    report_dir: Path,
    regions: list[str] | None = None,
    *,
    checks: Sequence[str] = (),
    skip_checks: Sequence[str] = (),
    baseline_file: Path | None = None,
    update_baseline: bool = False,
) -> GateResult:
    """Check every template and pipeline definition under ``paths``; write the reports.

    Findings skipped inline, deselected by ``checks``/``skip_checks`` or accepted by the
    baseline are reported as skipped, with why; an inline skip without a reason always
    fails. ``update_baseline`` first writes what fails today into ``baseline_file``. Raises
    ``checkov_runner.CheckovError`` when checkov cannot run (a gate that could not check
    must not pass) and ``BaselineError`` for a bad baseline.
    """
    documents = [d for d in (load(p) for p in discover(paths)) if d is not None]
    templates = [d.path for d in documents if d.kind == "template"]
    findings = [
        Finding.of(UNPARSABLE, str(d.path), "file", d.error, None)
        for d in documents
        if d.kind == "unreadable"
    ]
    findings += cfnlint_runner.lint(templates, regions)
    policies = policies_dir()
    skip_list = checkov_runner.load_skips(policies / "checkov-skips.yaml")
    findings += checkov_runner.scan(templates, policies / "checks", skip_list)
    for document in documents:
        findings += document_checks.check(document)
    proved, proven, notes = proof_checks.check(templates)
    findings += proved
    inline = inline_skips(documents)
    findings, skipped = inline.apply(findings)
    findings, deselected = select(findings, checks, skip_checks)
    skipped += deselected
    fixed = 0
    if baseline_file is not None:
        if update_baseline:
            baseline.write(findings, baseline_file)
        accepted_keys = baseline.read(baseline_file)
        findings, accepted, fixed = baseline.split(findings, accepted_keys, baseline_file)
        skipped += accepted
    findings += inline.refused  # a skip without a reason fails, whatever else is accepted
    findings.sort(key=_position)
    skipped.sort(key=lambda s: _position(s.finding))

    report_dir.mkdir(parents=True, exist_ok=True)
    reports = {"sarif": report_dir / "gate.sarif", "junit": report_dir / "gate-junit.xml"}
    root = Path.cwd().resolve()
    write_sarif(findings, skipped, reports["sarif"], root)
    checked = {
        "cfn-lint": templates,
        "checkov": templates,
        "gate": [d.path for d in documents],
        "prove": proven,
    }
    write_junit(findings, skipped, checked, reports["junit"], root)
    return GateResult(findings, documents, reports, skipped, fixed, notes)


def _position(finding: Finding) -> tuple[str, int, str, str]:
    return (finding.file, finding.line or 0, finding.check_id, finding.resource)


def main(argv: list[str] | None = None) -> int:
    """``harness gate [PATH ...]``; exit codes in harness/exit_codes.py."""
    parser = argparse.ArgumentParser(
        prog="harness gate",
        description=__doc__,
        epilog=exit_codes_help("gate"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    parser.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="ID",
        help="only these check ids fail the gate (repeat or comma-separate; CKV_AWS_* patterns)",
    )
    parser.add_argument(
        "--skip-check",
        action="append",
        default=[],
        metavar="ID",
        help="these check ids do not fail the gate (reported as skipped)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="accept the findings listed in FILE; fail only on new ones",
    )
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        help="write today's findings into the --baseline FILE first (accepting them all)",
    )
    args = parser.parse_args(argv)
    if args.update_baseline and args.baseline is None:
        parser.error("--update-baseline needs --baseline FILE")
    inputs = Inputs(
        paths=given_paths(args.paths),
        report=args.report_dir,
        regions=tuple(args.regions) if args.regions else None,
    )
    if (refused := refuse("harness gate", inputs)) is not None:
        return refused
    try:
        result = run_gate(
            args.paths,
            args.report_dir,
            args.regions,
            checks=_ids(args.check),
            skip_checks=_ids(args.skip_check),
            baseline_file=args.baseline,
            update_baseline=args.update_baseline,
        )
    except (checkov_runner.CheckovError, baseline.BaselineError, FileNotFoundError) as error:
        print(f"gate: cannot run: {error}", file=sys.stderr)
        return 2
    for finding in result.findings:
        print(finding.line_text())
    for note in result.notes:
        print(f"note: {note}")
    for skip in result.skipped:
        if skip.by == "inline":
            print(skip.line_text())
    counts = Counter(s.by for s in result.skipped)
    skipped = ", ".join(f"{n} {by}" for by, n in sorted(counts.items()))
    if result.baseline_fixed:
        skipped += f"; {result.baseline_fixed} baseline finding(s) are gone (--update-baseline)"
    verdict = "FAILED" if result.findings else "passed"
    print(
        f"gate {verdict}: {len(result.findings)} finding(s) in {len(result.documents)} file(s)"
        + (f"; skipped: {skipped}" if skipped else "")
        + f"; reports in {args.report_dir}"
    )
    return 1 if result.findings else 0


def _ids(values: list[str]) -> list[str]:
    return [i.strip() for value in values for i in value.split(",") if i.strip()]
