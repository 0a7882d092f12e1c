"""``report.html``: the run's record as one page a person opens in a browser.

Self-contained on purpose (inline CSS, no script, font, image or link to fetch), so it opens
from a CI artifact or a mail attachment and cannot leak that it was opened. Rendered with
Jinja2 with autoescaping on: every name, message and statement comes from the deployment or
the target and is shown as text, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.promises import Verdict
from harness.report import (
    OUTCOME_ORDER,
    RunRecord,
    cell_mark,
    probe_matrix,
    teardown_lines,
    totals,
)

_ENVIRONMENT = Environment(
    loader=PackageLoader("harness", "data"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class MatrixCell:
    """One cell of the principal x action table: its text and CSS classes."""

    text: str
    classes: str
    title: str


def _matrix(record: RunRecord) -> tuple[list[str], list[tuple[str, list[MatrixCell]]]]:
    columns, rows = probe_matrix(record.probes)
    table = []
    for principal, row in rows.items():
        cells = []
        for column in columns:
            probe = row.get(column)
            if probe is None:
                cells.append(MatrixCell("", "none", "not probed"))
                continue
            outcome = "allow" if probe.actual else "deny"
            classes = [outcome]
            title = f"{outcome}; the allow-list {'allows' if probe.expected else 'denies'} it"
            if probe.evidence != "live":
                classes.append("simulated")
                title += "; simulated by AWS's policy simulator"
            if probe.actual != probe.expected:
                classes.append("mismatch")
                title += "; DIFFERS FROM THE ALLOW-LIST"
            cells.append(MatrixCell(cell_mark(probe), " ".join(classes), title))
        table.append((principal, cells))
    return columns, table


def render_html(record: RunRecord) -> str:
    """The page: verdicts, matrix, failures with their statements and fix, skips, phases."""
    verdicts = record.verdicts()
    label = totals(record).split(" ", 1)[0]
    checks = sorted(record.checks, key=lambda c: (OUTCOME_ORDER.index(c.outcome), c.nodeid))
    columns, matrix = _matrix(record)
    return _ENVIRONMENT.get_template("report.html.j2").render(
        record=record,
        label=label,
        totals=totals(record),
        verdicts=verdicts,
        failed_verdict=Verdict.FAILED,
        counts=record.counts(),
        columns=columns,
        matrix=matrix,
        failures=[c for c in checks if c.outcome in {"failed", "error"}],
        skips=[c for c in checks if c.outcome == "skipped"],
        passed=[c for c in checks if c.outcome == "passed"],
        run_seconds=sum(record.phases.values()),
        teardown=teardown_lines(record),
    )
