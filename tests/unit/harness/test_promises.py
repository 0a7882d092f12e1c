"""The verdict on each promise from the recorded checks, and the exit code that follows."""

from __future__ import annotations

import pytest

from harness.promises import NONE_RAN, PROMISES, Verdict, exit_code, judge
from harness.report import CheckResult


def _verdicts(*checks: CheckResult) -> dict[int, tuple[Verdict, tuple[str, ...]]]:
    return {v.promise.number: (v.verdict, v.why) for v in judge(checks)}


def test_the_four_promises_of_the_design_in_order() -> None:
    assert [(p.number, p.title) for p in PROMISES] == [
        (1, "encryption"),
        (2, "key use"),
        (3, "training"),
        (4, "endpoint"),
    ]


def test_passing_checks_prove_their_promise() -> None:
    verdicts = _verdicts(
        CheckResult("t::a", "passed", promise=1),
        CheckResult("t::b", "skipped", "lacks TLS", promise=1),
    )
    assert verdicts[1] == (Verdict.PROVEN, ())


@pytest.mark.parametrize("outcome", ["failed", "error"])
def test_one_failure_fails_the_promise_however_much_passed(outcome: str) -> None:
    verdicts = _verdicts(
        CheckResult("t::a", "passed", promise=2),
        CheckResult("t::b", outcome, "role r: Decrypt allowed", promise=2),
    )
    assert verdicts[2] == (Verdict.FAILED, ())


def test_all_skipped_is_unproven_with_the_distinct_reasons() -> None:
    verdicts = _verdicts(
        CheckResult("t::a", "skipped", "lacks training\nmore detail", promise=3),
        CheckResult("t::b", "skipped", "lacks training", promise=3),
        CheckResult("t::c", "skipped", "lacks endpoints", promise=3),
    )
    assert verdicts[3] == (Verdict.UNPROVEN, ("lacks training", "lacks endpoints"))


def test_a_promise_no_check_ran_for_is_unproven() -> None:
    assert _verdicts()[4] == (Verdict.UNPROVEN, (NONE_RAN,))


def test_an_unmarked_check_counts_for_no_promise() -> None:
    verdicts = _verdicts(CheckResult("t::a", "failed", "boom"))
    assert {verdict for verdict, _ in verdicts.values()} == {Verdict.UNPROVEN}


@pytest.mark.parametrize(
    ("pytest_status", "ok", "unproven", "allow", "code"),
    [
        (0, True, False, False, 0),  # every promise proven
        (1, False, False, False, 1),  # a check failed
        (0, False, False, False, 1),  # teardown left something behind
        (1, True, False, True, 1),  # a failing test outside the record; allowing is no excuse
        (0, True, True, False, 3),  # nothing failed, something unproven
        (0, True, True, True, 0),  # ... accepted with --allow-unproven
        (3, True, True, True, 1),  # pytest's internal error is a failure, not "unproven"
        (2, True, True, True, 2),  # interrupted
        (4, True, True, True, 4),  # pytest usage error
        (5, True, True, True, 5),  # nothing collected: never 0
    ],
)
def test_exit_code(pytest_status: int, ok: bool, unproven: bool, allow: bool, code: int) -> None:
    assert exit_code(pytest_status, ok, unproven, allow) == code
