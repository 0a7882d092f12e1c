"""The run record renders for people and tools: grids, grouped results, report files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.report import (
    CheckResult,
    Probe,
    RunRecord,
    junit_properties,
    probe_grid,
    summary_markdown,
    summary_text,
)
from harness.report_writer import write_reports


def _record() -> RunRecord:
    return RunRecord(
        target="local",
        checks=[
            CheckResult("tests/integration/test_a.py::test_x[p1]", "passed", promise=1),
            CheckResult(
                "tests/integration/test_a.py::test_x[p2]", "skipped", "no such account", promise=1
            ),
            CheckResult(
                "tests/integration/test_a.py::test_y",
                "failed",
                "role r: Decrypt allowed",
                promise=2,
            ),
            CheckResult("tests/integration/test_t.py::test_t", "skipped", "no training", promise=3),
        ],
        probes=[
            Probe("role r (details)", "kms:Decrypt", "", expected=False, actual=True),
            Probe("role r (details)", "kms:Encrypt", "", expected=False, actual=False),
            Probe("role s", "kms:Decrypt", "", expected=True, actual=True),
        ],
        phases={"deploy": 1.5},
    )


def test_probe_grid_marks_outcomes_that_differ_from_the_allowlist() -> None:
    grid = probe_grid(_record().probes, short=True)
    assert grid[0] == ["principal", "Decrypt", "Encrypt"]
    assert grid[1] == ["role r", "allow !", "deny"]
    assert grid[2] == ["role s", "allow", ""]


def test_summary_groups_parametrised_checks_with_their_reasons() -> None:
    text = summary_text(_record())
    assert "test_a.py::test_x  1 passed, 1 skipped  no such account" in text
    assert "test_a.py::test_y  1 failed" in text
    assert "phases: deploy 1.5 s" in text


def test_summary_gives_each_promise_its_verdict_and_why_unproven() -> None:
    record = _record()
    record.exit_status = 1
    lines = summary_text(record).splitlines()
    table = [re.split(r"\s{2,}", line) for line in lines[lines.index("promise verdicts") + 2 :]]
    assert table[:4] == [
        ["1 encryption", "PROVEN", "1 passed, 1 skipped"],
        ["2 key use", "FAILED", "1 failed"],
        ["3 training", "UNPROVEN", "1 skipped", "no training"],
        ["4 endpoint", "UNPROVEN", "none", "no check of this promise ran"],
    ]
    assert lines[-1] == (
        "FAIL on target local (exit 1): FAILED: 2 key use; UNPROVEN: 3 training, 4 endpoint; "
        "1 failed, 1 passed, 2 skipped"
    )


def _passing(*promises: int) -> RunRecord:
    checks = [CheckResult(f"t::p{n}", "passed", promise=n) for n in promises]
    return RunRecord(target="localstack", checks=checks)


@pytest.mark.parametrize(
    ("allow", "status", "last"),
    [
        (False, 3, "UNPROVEN on target localstack (exit 3): UNPROVEN: 4 endpoint; 3 passed"),
        (
            True,
            0,
            "UNPROVEN on target localstack (exit 0, unproven allowed by --allow-unproven): "
            "UNPROVEN: 4 endpoint; 3 passed",
        ),
    ],
)
def test_an_unproven_promise_is_never_called_a_pass(allow: bool, status: int, last: str) -> None:
    record = _passing(1, 2, 3)
    record.allow_unproven, record.exit_status = allow, status
    assert summary_text(record).splitlines()[-1] == last
    assert f"**{last}**" in summary_markdown(record)


def test_pass_only_when_every_promise_is_proven() -> None:
    record = _passing(1, 2, 3, 4)
    record.exit_status = 0
    assert summary_text(record).splitlines()[-1] == (
        "PASS on target localstack (exit 0): every promise PROVEN; 4 passed"
    )
    record.exit_status = 5  # pytest's own failures fail the run whatever was recorded
    assert summary_text(record).splitlines()[-1].startswith("FAIL on target localstack (exit 5)")


def test_markdown_states_each_promise_and_junit_carries_the_verdicts() -> None:
    record = _record()
    markdown = summary_markdown(record)
    assert "| 2 key use: only the allow-listed roles can use the key" in markdown
    assert "| UNPROVEN | 1 skipped | no training |" in markdown
    assert junit_properties(record) == [
        ("promise-1", "PROVEN"),
        ("promise-2", "FAILED"),
        ("promise-3", "UNPROVEN"),
        ("promise-3-why", "no training"),
        ("promise-4", "UNPROVEN"),
        ("promise-4-why", "no check of this promise ran"),
    ]


def test_a_clean_run_is_ok_and_leftovers_are_not() -> None:
    record = RunRecord(target="local", checks=[CheckResult("t::a", "passed")])
    assert record.ok
    record.leftovers.append("bucket b")
    assert not record.ok
    assert "left behind: bucket b" in summary_text(record)


def test_reports_written_with_the_decision_log(tmp_path: Path) -> None:
    record = _record()
    log = tmp_path / "decisions.jsonl"
    log.write_text('{"decision": "deny"}\n')
    record.decision_log = log
    record.matrix_table = "principal  key"
    written = {p.name for p in write_reports(record, tmp_path / "out")}
    assert written == {
        "summary.md",
        "report.html",
        "access-matrix.json",
        "access-matrix.txt",
        "probes.json",
        "phases.json",
        "decisions.jsonl",
    }
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "### `tests/integration/test_a.py::test_y`" in summary
    assert "role r: Decrypt allowed" in summary
    assert json.loads((tmp_path / "out" / "probes.json").read_text())[0]["actual"] is True
