"""SARIF of a live run (``results.sarif`` beside ``report.html``): each failed check a result
located at the template line of the statement at fault, so code scanning annotates the
policy to change. A failure that names no statement (a grant is missing, or the check is not
about a policy) is located at the check itself. Results carry the check's rule id
(``LIVE_NNN``) and its metadata from ``harness.rules``; a check without metadata keeps its
``file::function`` as id.

:func:`statement_findings` is the part any command that blames statements can use (a proof's
counterexample as well as a live check's failure); the writer is the gate's too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from harness.evidence import StatementCited
from harness.gate.findings import Finding
from harness.locate import SourceLine
from harness.report import CheckResult
from harness.rules import Rule, all_rules, live_rule
from harness.sarif import write_sarif

TOOL = "harness"
Locate = Callable[[StatementCited], SourceLine | None]


def statement_findings(
    rule_id: str,
    subject: str,
    message: str,
    fix: str,
    statements: Sequence[StatementCited],
    locate: Locate,
    fallback: SourceLine,
) -> list[Finding]:
    """One finding per statement at fault that a template wrote (at its line), else one at
    ``fallback``."""
    found = [(s, where) for s in statements if (where := locate(s)) is not None]
    located = found or [(None, fallback)]
    return [
        Finding(
            tool=TOOL,
            file=str(where.file),
            resource=subject,
            check_id=rule_id,
            title=rule_id,
            detail=f"{statement}: {message}" if statement is not None else message,
            fix=fix or "see the message",
            line=where.line,
        )
        for statement, where in located
    ]


def check_findings(
    checks: Iterable[CheckResult], locate: Locate, root: Path, rules: Mapping[str, Rule]
) -> list[Finding]:
    """The findings of every failed or errored check, under its live rule where it has one."""
    findings = []
    for check in checks:
        if check.outcome not in {"failed", "error"}:
            continue
        file, line = check.source or (check.nodeid.split("::", 1)[0], 0)
        rule = live_rule(check.nodeid, rules)
        rule_id = check.nodeid.split("[", 1)[0].removeprefix("tests/integration/")
        found = statement_findings(
            rule_id if rule is None else rule.id,
            check.nodeid,
            check.message,
            check.fix or ("" if rule is None else rule.fix),
            check.at_fault,
            locate,
            SourceLine(root / file, line),
        )
        if rule is not None:
            worded = {"title": rule.title, "severity": rule.severity}
            found = [dataclasses.replace(finding, **worded) for finding in found]
        findings += found
    return findings


def write_run_sarif(
    checks: Iterable[CheckResult],
    locate: Locate | None,
    target: Path,
    root: Path,
    rules: Mapping[str, Rule] | None = None,
) -> None:
    """``target`` with a result per failed check (none when all passed: code scanning then
    closes the earlier alerts); ``rules`` default to the suite's (``harness.rules``)."""
    rules = all_rules() if rules is None else rules
    findings = check_findings(checks, locate or (lambda _statement: None), root, rules)
    write_sarif(findings, target, root, (TOOL,), rules=rules)
