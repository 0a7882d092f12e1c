"""Every kept disagreement is decided as AWS documents it, by the engine and by the model."""

from __future__ import annotations

from typing import Any

import pytest

from harness.policy import evaluate
from harness.proof.concrete import smt_allows
from tests.unit.proof import corpus_cases

CASES = corpus_cases.load()


def test_found_cases_are_explained_and_kept() -> None:
    """``corpus/found.yaml`` holds what the differential test found and nobody explained yet."""
    assert not corpus_cases.FOUND.exists(), (
        f"explain each case of {corpus_cases.FOUND} (source, expect), fix the engine or the "
        "model, and move it to a corpus file"
    )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
@pytest.mark.parametrize("symbolic", [False, True], ids=["given", "symbolic"])
def test_case(case: dict[str, Any], symbolic: bool) -> None:
    assert case["source"].strip() and case["found"].strip()
    request = corpus_cases.request_of(case)
    kwargs = corpus_cases.evaluate_kwargs(case)
    expected = case["expect"] == "allow"
    assert evaluate(request, **kwargs).allowed is expected
    assert smt_allows(request, corpus_cases.query(case), symbolic, symbolic) is expected
