"""Every documented case of the corpus, decided by the engine as AWS documents it."""

from __future__ import annotations

import importlib

import pytest

from harness.policy import evaluate
from tests.unit.policy.corpus_cases import Case, load_corpus, principal_of

CASES = load_corpus()


def test_corpus_is_large_and_sourced() -> None:
    assert len(CASES) >= 150
    assert all(case.source.strip() for case in CASES)
    assert len({case.id for case in CASES}) == len(CASES), "case names must be unique"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    decision = evaluate(case.request, **case.kwargs)
    assert decision.allowed is case.allowed, f"{case.source}\n{decision.reason}"
    assert decision.reason.startswith("Allowed" if case.allowed else "Denied")
    if case.decided_by is not None:
        refs = [ref.sid for ref in decision.statements]
        assert case.decided_by in refs, f"decided by {refs}, not {case.decided_by!r}"
    if case.reason_contains is not None:
        assert case.reason_contains in decision.reason


def test_a_remembered_outcome_decides_as_a_decision_made_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plan makes each outcome once, with a placeholder for the resource, and then writes
    only the reason per request: every corpus case, decided so (twice: the second time from
    the outcome made by the first), equals its decision made in full."""
    module = importlib.import_module("harness.policy.evaluate")  # not the package's function
    remembered = [evaluate(c.request, **c.kwargs) for c in CASES for _ in range(2)]
    monkeypatch.setattr(module, "_PLANS", {})
    monkeypatch.setattr(
        module._Plan, "remember", lambda plan, mask: (plan.decision(mask, "unused"), None)
    )
    in_full = [evaluate(c.request, **c.kwargs) for c in CASES]
    assert remembered[0::2] == remembered[1::2] == in_full


def test_the_corpus_principal_parser_is_cached() -> None:
    """Like ``Principal.from_arn``: the same few callers come request after request."""
    principal_of.cache_clear()
    text = "service:sagemaker.amazonaws.com"
    assert principal_of(text) is principal_of(text)
    assert principal_of.cache_info().hits == 1
