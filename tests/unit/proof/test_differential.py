"""The SMT model decides every generated request as the engine does.

Thousands of scenarios per run in ``tox -e proof`` (``DIFFERENTIAL_EXAMPLES``; the unit
suite draws a hundred, to stay fast): any difference is a bug in the model or in the engine.
Hypothesis minimises it, and the minimal scenario is appended to ``corpus/found.yaml`` to be
explained and kept (``test_corpus.py``).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context

from harness.policy import evaluate
from harness.proof.concrete import smt_allows
from tests.unit.proof import corpus_cases
from tests.unit.proof.strategies import scenarios

EXAMPLES = int(os.environ.get("DIFFERENTIAL_EXAMPLES", "100"))


def _outcome(decide: Any) -> str:
    try:
        return "allow" if decide() else "deny"
    except Exception as error:  # a crash is a difference too
        return f"error: {type(error).__name__}: {error}"


def _compare(scenario: dict[str, Any], symbolic_action: bool, symbolic_resource: bool) -> None:
    request = corpus_cases.request_of(scenario)
    kwargs = corpus_cases.evaluate_kwargs(scenario)
    engine = _outcome(lambda: evaluate(request, **kwargs).allowed)
    model = _outcome(
        lambda: smt_allows(
            request, corpus_cases.query(scenario), symbolic_action, symbolic_resource
        )
    )
    if engine != model:
        message = f"engine and model disagree: engine {engine}; model {model}"
        if current_build_context().is_final:
            path = corpus_cases.record(corpus_cases.as_case(scenario, engine, model))
            message += f" (kept in {path})"
        pytest.fail(message)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios(), st.booleans(), st.booleans())
def test_model_decides_as_the_engine(
    scenario: dict[str, Any], symbolic_action: bool, symbolic_resource: bool
) -> None:
    _compare(scenario, symbolic_action, symbolic_resource)
