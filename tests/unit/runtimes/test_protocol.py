"""SageMaker XGBoost's inference encoding, without a server."""

from __future__ import annotations

import json

import pytest

from harness.runtimes.endpoint.protocol import (
    RequestError,
    choose_accept,
    decode_csv,
    encode_predictions,
)


def test_csv_rows_decode_to_a_matrix_whatever_the_charset_parameter() -> None:
    rows = decode_csv(b"1,2.5,-3\n4,5,6e-1\n\n", "text/csv; charset=utf-8")

    assert rows.tolist() == [[1.0, 2.5, -3.0], [4.0, 5.0, 0.6]]


def test_binary_scores_are_one_per_line_and_class_probabilities_comma_separated() -> None:
    assert encode_predictions([0.25, 0.75], "text/csv").body == b"0.25\n0.75\n"
    assert encode_predictions([[0.2, 0.8]], "text/csv").body == b"0.2,0.8\n"
    body = encode_predictions([0.25], "application/json").body
    assert json.loads(body) == {"predictions": [{"score": 0.25}]}


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, "text/csv"), ("*/*", "text/csv"), ("application/json", "application/json")],
)
def test_accept_defaults_to_csv(header: str | None, expected: str) -> None:
    assert choose_accept(header) == expected


def test_an_accept_it_cannot_produce_is_406() -> None:
    with pytest.raises(RequestError) as raised:
        choose_accept("application/jsonlines")

    assert raised.value.status == 406
