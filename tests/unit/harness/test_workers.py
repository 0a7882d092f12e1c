"""The suite split across xdist workers: each check crosses to the controller with its report,
each worker's part at its end, and the controller judges every promise on all of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import execnet
import pytest
from _pytest.reports import pytest_report_from_serializable, pytest_report_to_serializable

from harness.evidence import PolicyKind, StatementCited
from harness.interrupts import Interruption, Interrupts
from harness.promises import Exit, Verdict, exit_code
from harness.pytest_plugin import Judge
from harness.report import CheckResult, Probe, RunRecord, WorkerRun, summary_markdown
from harness.report_writer import write_reports
from harness.validation import Inputs, problems
from harness.workers import (
    CHECK,
    NO_PART,
    alongside,
    merge,
    part,
    split_problems,
    worker_prefix,
)

CITED = StatementCited(
    "key policy of arn:aws:kms:us-east-1:1:key/k", PolicyKind.KEY, "Use", "Allow"
)


def _crossed(check: CheckResult) -> Any:
    """The report of ``check`` as the controller gets it: serialised as xdist does (pytest's
    own serialisation, then execnet's wire format) and read back."""
    report = pytest.TestReport(check.nodeid, ("f.py", 1, "t"), {}, check.outcome, None, "call")
    setattr(report, CHECK, check.as_json())
    wire = execnet.dumps(pytest_report_to_serializable(report))
    return pytest_report_from_serializable(execnet.loads(wire))


def _part(worker: str, tmp_path: Path, **recorded: Any) -> str:
    log = tmp_path / worker / "decisions.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text(f'{{"prefix": "mlops-{worker}"}}\n')
    run = WorkerRun(
        worker,
        worker_prefix("mlops", worker),
        "us-east-1",
        {"shared-services": "1" * 12},
        (f"https://127.0.0.1:{4000 + int(worker[2:])}",),
        {"target start": 0.5, "deploy": 10.0 + int(worker[2:]), "checks": 1.0},
        decision_log=log,
    )
    return part(RunRecord(target="local", **recorded), run)


def _judged(checks: dict[str, list[CheckResult]], parts: dict[str, str | None]) -> RunRecord:
    record = RunRecord(target="local")
    judge = Judge(record, {}, Interrupts())
    for mine in checks.values():  # the checks each worker ran, as they reach the controller
        for check in mine:
            judge.pytest_runtest_logreport(_crossed(check))
    merge(record, parts)
    return record


def test_a_failing_check_on_the_other_worker_fails_its_promise(tmp_path: Path) -> None:
    failing = CheckResult(
        "tests/integration/test_key_access.py::test_direct_key_use[admin]",
        "failed",
        "admin: kms:Decrypt was allowed",
        0.5,
        promise=2,
        at_fault=(CITED,),
        fix="narrow the statement",
        source=("tests/integration/test_key_access.py", 45),
    )
    record = _judged(
        {
            "gw0": [
                CheckResult("t.py::test_put[a]", "passed", promise=1),
                CheckResult("t.py::test_key[b]", "passed", promise=2),
            ],
            "gw1": [CheckResult("t.py::test_put[c]", "passed", promise=1), failing],
        },
        {"gw0": _part("gw0", tmp_path), "gw1": _part("gw1", tmp_path)},
    )
    verdicts = {v.promise.number: v.verdict for v in record.verdicts()}
    assert verdicts[1] is Verdict.PROVEN
    assert verdicts[2] is Verdict.FAILED  # gw0's passing check of promise 2 does not save it
    assert failing in record.checks  # crossed intact: statements at fault, fix, source
    assert exit_code(0, record.ok, bool(record.unproven()), False) == Exit.FAILED


def test_every_check_of_every_worker_is_counted_once(tmp_path: Path) -> None:
    checks = {
        worker: [CheckResult(f"t.py::test_{worker}_{p}", "passed", promise=p) for p in (1, 2, 3, 4)]
        for worker in ("gw0", "gw1")
    }
    record = _judged(checks, {"gw0": _part("gw0", tmp_path), "gw1": _part("gw1", tmp_path)})
    assert sorted(c.nodeid for c in record.checks) == sorted(
        c.nodeid for mine in checks.values() for c in mine
    )
    assert all(v.verdict is Verdict.PROVEN for v in record.verdicts())
    assert [run.prefix for run in record.workers] == ["mlops-gw0", "mlops-gw1"]
    # each phase the slowest worker's; the checks' phase is what the controller's clock leaves
    assert record.phases == {"target start": 0.5, "deploy": 11.0}


def test_a_worker_that_sends_no_part_fails_the_run(tmp_path: Path) -> None:
    passing = {"gw0": [CheckResult("t.py::test_a", "passed", promise=1)]}
    record = _judged(passing, {"gw0": _part("gw0", tmp_path), "gw1": None})
    assert record.teardown_errors == [f"worker gw1 {NO_PART}"]
    assert not record.ok


def test_a_workers_leftovers_and_interruption_name_it(tmp_path: Path) -> None:
    stopped = Interruption("SIGTERM", "checks", 143)
    parts = {
        "gw0": _part("gw0", tmp_path),
        "gw1": _part("gw1", tmp_path, leftovers=["stack mlops-gw1-shared"], interruption=stopped),
    }
    record = _judged({}, parts)
    assert record.leftovers == ["gw1 (mlops-gw1): stack mlops-gw1-shared"]
    assert record.interruption == stopped


def test_workers_stopped_in_different_phases_are_each_named(tmp_path: Path) -> None:
    parts = {
        worker: _part(worker, tmp_path, interruption=Interruption("SIGTERM", phase, 143))
        for worker, phase in (("gw1", "checks"), ("gw0", "pipeline"))
    }
    record = _judged({}, parts)
    assert record.interruption == Interruption("SIGTERM", "pipeline (gw0), checks (gw1)", 143)
    assert record.interruption.describe() == (
        "interrupted by SIGTERM during pipeline (gw0), checks (gw1)"
    )


def test_a_crashed_workers_check_is_an_error(tmp_path: Path) -> None:
    record = RunRecord(target="local")
    crashed = pytest.TestReport("t.py::test_a", ("t.py", 1, "t"), {}, "failed", "crashed", "???")
    Judge(record, {}, Interrupts()).pytest_runtest_logreport(crashed)
    assert [(c.nodeid, c.outcome) for c in record.checks] == [("t.py::test_a", "error")]


def test_the_reports_join_the_workers_evidence_and_name_each_worker(tmp_path: Path) -> None:
    probe = Probe("role r", "kms:Decrypt", "", expected=False, actual=False)
    parts = {
        "gw0": _part("gw0", tmp_path, probes=[probe]),
        "gw1": _part("gw1", tmp_path, matrix_table="who  key", matrix_findings=["f"]),
    }
    record = _judged({"gw0": [CheckResult("t.py::test_a", "passed", promise=1)]}, parts)
    assert record.probes == [probe] and record.matrix_table == "who  key"
    write_reports(record, tmp_path / "report", ("md", "json", "html"))
    joined = (tmp_path / "report" / "decisions.jsonl").read_text().splitlines()
    assert joined == ['{"prefix": "mlops-gw0"}', '{"prefix": "mlops-gw1"}']
    assert "gw1: prefix mlops-gw1 on https://127.0.0.1:4001" in summary_markdown(record)
    assert '"prefix": "mlops-gw1"' in (tmp_path / "report" / "workers.json").read_text()
    assert (
        "gw0: prefix mlops-gw0 on https://127.0.0.1:4000<"
        in (tmp_path / "report" / "report.html").read_text()
    )


def test_worker_prefixes_keep_the_templates_rule() -> None:
    assert not problems(Inputs(prefix=worker_prefix("mlops", "gw1")))
    [too_long] = split_problems("a" * 17, 2, reuse=False, environ={}, target="local")
    assert too_long.input == "--prefix 'aaaaaaaaaaaaaaaaa' with -n 2 (pytest-xdist)"
    assert too_long.rule.startswith(
        f"worker prefix '{'a' * 17}-gw1': must match ^[a-z][a-z0-9-]{{1,19}}$"
    )
    assert not split_problems("a" * 16, 2, reuse=False, environ={}, target="local")


def test_a_split_that_would_share_a_deployment_is_refused() -> None:
    reused = split_problems("mlops", 2, reuse=True, environ={}, target="local")
    assert "--reuse-deployment" in reused[0].rule
    [run_id] = split_problems("mlops", 2, False, {"HARNESS_RUN_ID": "n1234"}, "aws")
    assert "HARNESS_RUN_ID" in run_id.rule


def test_a_worker_foresees_its_share_from_any_of_its_checks() -> None:
    checks = [f"check {i}" for i in range(7)]
    shares = [alongside(checks, checks[i], 2) for i in (0, 1)]
    assert shares == [checks[0::2], checks[1::2]]  # even, disjoint, every check in one
    assert alongside(checks, checks[5], 2) == shares[1]
    assert alongside(checks, checks[5], 0) == checks  # one process: every check
