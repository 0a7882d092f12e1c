"""The run record renders for people and tools: grids, grouped results, report files."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report import CheckResult, Probe, RunRecord, probe_grid, summary_text, write_reports


def _record() -> RunRecord:
    return RunRecord(
        target="local",
        checks=[
            CheckResult("tests/integration/test_a.py::test_x[p1]", "passed"),
            CheckResult("tests/integration/test_a.py::test_x[p2]", "skipped", "no such account"),
            CheckResult("tests/integration/test_a.py::test_y", "failed", "role r: Decrypt allowed"),
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
    assert text.splitlines()[-1] == "FAIL on target local: 1 failed, 1 passed, 1 skipped"


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
