"""How a check of the suite turns a cell's verdict into a test outcome, and records it.

The cells (``harness.probes``) are named from the rendered templates at collection time: a
check marked ``@pytest.mark.cells(check, expected=...)`` is parametrised with the ids of those
cells (``cell_id``); at run time the live cell of that id is judged by the rules of evidence.
"""

from __future__ import annotations

import pytest

from harness.evidence import Source
from harness.probes.judge import Status, Verdict
from harness.report import Probe, RunRecord

MATRIX_CHECKS = frozenset({"key", "object", "trust"})  # shown in the principal x action table


def conclude(verdict: Verdict, record: RunRecord, check: str) -> None:
    """Record the verdict; pass, skip (with the reason the target cannot) or fail."""
    cell = verdict.cell
    if check in MATRIX_CHECKS and verdict.observed is not None:
        source = verdict.observed.explanation.source
        evidence = "simulated" if source is Source.SIMULATED else "live"
        record.probes.append(
            Probe(cell.row, cell.column, "", cell.expected, verdict.observed.allowed, evidence)
        )
    if verdict.status is Status.UNAVAILABLE:
        pytest.skip(verdict.message)
    if verdict.status is not Status.PASSED:
        pytest.fail(verdict.message, pytrace=False)
