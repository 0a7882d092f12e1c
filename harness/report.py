"""What a compliance run found, for people (terminal and Markdown) and tools (JSON, JUnit).

The pytest plugin fills a :class:`RunRecord` while the suite runs; this module only renders
it. JUnit XML is written by pytest itself; the decision log is the target's own file.
Nothing here holds credentials: records carry ARNs, actions and outcomes only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.evidence.model import StatementCited
from harness.interrupts import Interruption
from harness.promises import PromiseVerdict, Verdict, judge
from harness.rules import all_rules, live_rule

OUTCOME_ORDER = ("failed", "error", "passed", "skipped")
REASON_WIDTH = 200  # characters of one reason shown in the terminal table


@dataclass(frozen=True)
class CheckResult:
    """One test of the suite: its id, outcome, for a skip or failure the reason, and the
    promise (1-4) it gives evidence for (None: it counts for the run, not for a promise)."""

    nodeid: str
    outcome: str  # passed | failed | skipped | error
    message: str = ""
    seconds: float = 0.0
    promise: int | None = None
    at_fault: tuple[StatementCited, ...] = ()  # for a failure: the statements to change
    fix: str = ""
    source: tuple[str, int] | None = None  # the check's file (from the rootdir) and line

    def as_json(self) -> dict[str, Any]:
        """As pytest's report of the check carries it (to an xdist controller, too)."""
        return {
            **{k: v for k, v in vars(self).items() if k not in {"at_fault", "source"}},
            "at_fault": [statement.as_json() for statement in self.at_fault],
            "source": None if self.source is None else list(self.source),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CheckResult:
        source = raw.get("source")
        return cls(
            **{k: v for k, v in raw.items() if k not in {"at_fault", "source"}},
            at_fault=tuple(StatementCited.from_json(s) for s in raw.get("at_fault", ())),
            source=None if source is None else (str(source[0]), int(source[1])),
        )


@dataclass(frozen=True)
class Probe:
    """One live call made as a principal, and whether the allow-list expected it to work."""

    principal: str
    action: str
    target: str
    expected: bool
    actual: bool
    evidence: str = "live"  # "live", or "simulated" by AWS's policy simulator


@dataclass(frozen=True)
class WorkerRun:
    """One pytest-xdist worker's own deployment: its prefix, where its target listened, its
    phases, and its decision log and target log (copied into the report folder)."""

    worker: str  # gw0, gw1, ...
    prefix: str
    region: str
    accounts: dict[str, str]  # account role -> id, with the prefix what locates statements
    endpoints: tuple[str, ...] = ()
    phases: dict[str, float] = field(default_factory=dict)
    decision_log: Path | None = None
    target_log: Path | None = None

    def as_json(self) -> dict[str, Any]:
        paths = {"decision_log": self.decision_log, "target_log": self.target_log}
        return {
            **vars(self),
            "endpoints": list(self.endpoints),
            **{k: None if v is None else str(v) for k, v in paths.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> WorkerRun:
        paths = ("decision_log", "target_log")
        return cls(
            **{k: v for k, v in raw.items() if k not in {"endpoints", *paths}},
            endpoints=tuple(raw["endpoints"]),
            **{k: None if raw[k] is None else Path(raw[k]) for k in paths},
        )

    def describe(self) -> str:
        return f"{self.worker}: prefix {self.prefix} on {', '.join(self.endpoints) or 'its target'}"


@dataclass
class RunRecord:
    """Everything a run reports; filled in by the pytest plugin."""

    target: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    matrix_cells: list[dict[str, Any]] = field(default_factory=list)
    matrix_table: str = ""
    matrix_findings: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds, in order
    """The run's clock cut into consecutive phases (collection, target start, deploy,
    pipeline, checks, teardown) that add up to the run from configure to the last report."""
    pipeline_stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    """Each pipeline stage by CodePipeline's own timestamps (stages overlap deploy: the
    pipeline starts as soon as the source is pushed)."""
    leftovers: list[str] = field(default_factory=list)
    teardown_errors: list[str] = field(default_factory=list)
    decision_log: Path | None = None
    target_log: Path | None = None  # the target's own log, where it keeps one
    allow_unproven: bool = False
    exit_status: int | None = None  # set by the plugin when the session ends
    interruption: Interruption | None = None  # the signal that stopped the run, and when
    workers: list[WorkerRun] = field(default_factory=list)
    """Split across pytest-xdist workers: each one's own deployment (empty in one process)."""

    def counts(self) -> dict[str, int]:
        counted = dict.fromkeys(OUTCOME_ORDER, 0)
        for check in self.checks:
            counted[check.outcome] = counted.get(check.outcome, 0) + 1
        return counted

    @property
    def ok(self) -> bool:
        counted = self.counts()
        return (
            counted["failed"] == 0
            and counted["error"] == 0
            and not self.leftovers
            and not self.teardown_errors
        )

    def verdicts(self) -> list[PromiseVerdict]:
        return judge(self.checks)

    def unproven(self) -> list[PromiseVerdict]:
        return [v for v in self.verdicts() if v.verdict is Verdict.UNPROVEN]


# Shorter column names for the terminal: the service prefix goes, long KMS names shrink.
_SHORT = (("kms:", ""), ("s3:", ""), ("Object", ""), ("WithoutPlaintext", "NoPlain"))


def _short(action: str) -> str:
    for long, short in _SHORT:
        action = action.replace(long, short)
    return action


def probe_matrix(
    probes: Iterable[Probe], short: bool = False
) -> tuple[list[str], dict[str, dict[str, Probe]]]:
    """The live probes as a principal x action matrix: the columns (action and target) in
    the order first probed, and each principal's probe per column."""
    columns: dict[str, None] = {}
    rows: dict[str, dict[str, Probe]] = {}
    for probe in probes:
        column = f"{probe.action} {probe.target}".strip()
        column = _short(column) if short else column
        columns.setdefault(column)
        principal = probe.principal.split(" (", 1)[0] if short else probe.principal
        rows.setdefault(principal, {})[column] = probe
    return list(columns), rows


def cell_mark(probe: Probe) -> str:
    """``allow``/``deny``, `` ~`` where AWS's policy simulator answered instead of a live
    call, `` !`` where the outcome differs from the allow-list."""
    mark = "allow" if probe.actual else "deny"
    if probe.evidence != "live":
        mark += " ~"
    if probe.actual != probe.expected:
        mark += " !"
    return mark


def probe_grid(probes: Iterable[Probe], short: bool = False) -> list[list[str]]:
    """Principal x action table of live probes, each cell its :func:`cell_mark`. The first
    row is the header."""
    columns, rows = probe_matrix(probes, short)
    return [["principal", *columns]] + [
        [principal, *(cell_mark(row[c]) if c in row else "" for c in columns)]
        for principal, row in rows.items()
    ]


def _text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _markdown_table(rows: list[list[str]]) -> str:
    def line(row: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"

    return "\n".join([line(rows[0]), line(["---"] * len(rows[0])), *map(line, rows[1:])])


def _check_rows(record: RunRecord) -> list[list[str]]:
    """Every check, failures first, with its reason's first line."""
    ordered = sorted(record.checks, key=lambda c: (OUTCOME_ORDER.index(c.outcome), c.nodeid))
    rows = [["check", "result", "reason"]]
    for check in ordered:
        reason = check.message.splitlines()[0] if check.message else ""
        rows.append([check.nodeid.removeprefix("tests/integration/"), check.outcome, reason])
    return rows


def _grouped_rows(record: RunRecord) -> list[list[str]]:
    """One row per check function: its counts, and the distinct reasons of what did not
    pass (the full list is in the Markdown summary and the JUnit file)."""
    groups: dict[str, list[CheckResult]] = {}
    for check in record.checks:
        name = check.nodeid.removeprefix("tests/integration/").split("[", 1)[0]
        groups.setdefault(name, []).append(check)
    rows = [["check", "result", "reasons (failures and skips)"]]
    for name, checks in sorted(groups.items()):
        counted: dict[str, int] = {}
        reasons: dict[str, None] = {}
        for check in checks:
            counted[check.outcome] = counted.get(check.outcome, 0) + 1
            if check.outcome != "passed" and check.message:
                reasons.setdefault(check.message.splitlines()[0][:REASON_WIDTH])
        result = ", ".join(f"{n} {o}" for o, n in sorted(counted.items()))
        rows.append([name, result, " | ".join(reasons)])
    return rows


def _names(verdicts: list[PromiseVerdict]) -> str:
    return ", ".join(f"{v.promise.number} {v.promise.title}" for v in verdicts)


def totals(record: RunRecord) -> str:
    """The last line: PASS only when every promise is PROVEN and nothing failed."""
    counted = ", ".join(f"{n} {outcome}" for outcome, n in record.counts().items() if n)
    verdicts = record.verdicts()
    failed = [v for v in verdicts if v.verdict is Verdict.FAILED]
    unproven = [v for v in verdicts if v.verdict is Verdict.UNPROVEN]
    findings = [f"FAILED: {_names(failed)}"] if failed else []
    findings += [f"UNPROVEN: {_names(unproven)}"] if unproven else []
    status = record.exit_status
    if record.interruption is not None:
        findings.insert(0, record.interruption.describe())
    # pytest's own unhappy statuses (interrupted, usage, nothing collected) fail the run too
    if record.interruption is not None:
        label = "INTERRUPTED"
    elif not record.ok or status not in (None, 0, 3):
        label = "FAIL"
    else:
        label = "UNPROVEN" if unproven else "PASS"
    note = ""
    if status is not None:
        allowed = ", unproven allowed by --allow-unproven" if unproven and status == 0 else ""
        note = f" (exit {status}{allowed})"
    findings = findings or ["every promise PROVEN"]
    return f"{label} on target {record.target}{note}: " + "; ".join(
        [*findings, counted or "no checks ran"]
    )


def _verdict_rows(record: RunRecord, statements: bool = False) -> list[list[str]]:
    """One row per promise: its verdict, its checks' counts and, if unproven, why."""
    rows = [["promise", "verdict", "checks", "why unproven"]]
    for verdict in record.verdicts():
        promise = verdict.promise
        name = f"{promise.number} {promise.title}"
        name += f": {promise.statement}" if statements else ""
        counted = ", ".join(f"{n} {o}" for o, n in sorted(verdict.counts.items()))
        why = " | ".join(reason[:REASON_WIDTH] for reason in verdict.why)
        rows.append([name, verdict.verdict, counted or "none", why])
    return rows


def junit_properties(record: RunRecord) -> list[tuple[str, str]]:
    """Test-suite properties for the JUnit file: ``promise-N`` = the verdict, and for an
    unproven promise ``promise-N-why`` = the skip reasons of its checks."""
    properties = []
    for verdict in record.verdicts():
        number = verdict.promise.number
        properties.append((f"promise-{number}", str(verdict.verdict)))
        if verdict.why:
            properties.append((f"promise-{number}-why", " | ".join(verdict.why)))
    return properties


def interruption_lines(record: RunRecord) -> list[str]:
    """Where a signal stopped the run and what its teardown then did (empty when none did)."""
    if record.interruption is None:
        return []
    teardown = record.phases.get("teardown")
    if teardown is None:
        after = "no teardown ran (nothing was deployed, or --keep)"
    else:
        left = len(record.leftovers) + len(record.teardown_errors)
        after = f"teardown ran ({teardown:.1f} s), leak check: " + (
            f"{left} left behind" if left else "nothing left"
        )
    return [f"{record.interruption.describe()}; {after}"]


def teardown_lines(record: RunRecord) -> list[str]:
    lines = [f"left behind: {what}" for what in record.leftovers]
    lines += [f"teardown error: {error}" for error in record.teardown_errors]
    return lines


def summary_text(record: RunRecord) -> str:
    """The summary printed at the end of a run."""
    parts = []
    if record.probes:
        parts += [
            "principal x action (live calls; ~ = simulated by AWS; ! = differs from the allow-list)"
        ]
        parts += [_text_table(probe_grid(record.probes, short=True)), ""]
    if record.checks:
        parts += ["check x result", _text_table(_grouped_rows(record)), ""]
    parts += ["promise verdicts", _text_table(_verdict_rows(record)), ""]
    if record.phases:
        parts += ["phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in record.phases.items())]
    if record.pipeline_stages:
        stages = record.pipeline_stages.items()
        parts += ["pipeline stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages)]
    parts += [f"worker {run.describe()}" for run in record.workers]
    parts += teardown_lines(record) + interruption_lines(record)
    parts.append(totals(record))
    return "\n".join(parts)


def summary_markdown(record: RunRecord) -> str:
    """The same summary as a Markdown page, with the failures' full messages."""
    parts = [f"# Compliance run on `{record.target}`", "", f"**{totals(record)}**", ""]
    if record.interruption is not None:
        parts += ["## Interrupted", "", *(f"- {line}" for line in interruption_lines(record))]
        parts.append("")
    parts += ["## Promises", "", _markdown_table(_verdict_rows(record, statements=True)), ""]
    failures = [c for c in record.checks if c.outcome in {"failed", "error"}]
    if failures:
        parts += ["## Failures", ""]
        rules = all_rules()
        for check in failures:
            parts += [f"### `{check.nodeid}`", ""]
            rule = live_rule(check.nodeid, rules)
            if rule is not None:
                parts += [
                    f"**{rule.id}** ({rule.severity}) {rule.title}. Fix: {rule.fix} "
                    f"([AWS documentation]({rule.doc_url}))",
                    "",
                ]
            parts += ["```", check.message, "```", ""]
    if record.probes:
        parts += ["## Principal x action (live calls)", ""]
        parts += [
            "`~` marks a cell AWS's policy simulator answered (a role only a service may "
            "assume); `!` an outcome that differs from the allow-list.",
            "",
        ]
        parts += [_markdown_table(probe_grid(record.probes)), ""]
    if record.matrix_table:
        parts += ["## Access matrix from the live policies", "", "```", record.matrix_table]
        parts += ["```", ""]
        parts += [f"- finding: {finding}" for finding in record.matrix_findings]
    if record.checks:
        parts += ["## Check x result", "", _markdown_table(_check_rows(record)), ""]
    if record.phases:
        parts += ["## Phases", ""] + [f"- {k}: {v:.1f} s" for k, v in record.phases.items()]
        stages = record.pipeline_stages.items()
        parts += [f"- pipeline stage {k} (CodePipeline's clock): {v:.1f} s" for k, v in stages]
        parts.append("")
    if record.workers:
        parts += ["## Workers (pytest-xdist), each with its own deployment", ""]
        parts += [f"- {run.describe()}" for run in record.workers] + [""]
    teardown = teardown_lines(record)
    parts += ["## Teardown", ""] + ([f"- {line}" for line in teardown] or ["- nothing left"])
    return "\n".join(parts) + "\n"


FORMATS = ("junit", "md", "json", "html", "sarif")
"""The report formats a run can write (``formats`` in the settings file): junit.xml,
summary.md, the access matrix (JSON and table) with the probes and phases, report.html,
results.sarif."""
