"""Statement positions in a policy's text, as the policy simulator cites them."""

from __future__ import annotations

import json

from harness.policy.positions import Position, Span, statement_at, statement_spans

ALLOW = {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}
DENY = {"Sid": "D", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}


def test_compact_text_spans_each_statement_from_brace_to_past_its_close() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": [ALLOW, DENY]}, separators=(",", ":"))
    first, second = statement_spans(text)
    assert text[first.start.column - 1] == "{"
    assert text[first.end.column - 2] == "}"
    assert text[first.end.column - 1] == ","
    assert second.start.column == first.end.column + 1
    assert (first.start.line, second.end.line) == (1, 1)


def test_indented_text_counts_lines_and_columns_from_one() -> None:
    text = json.dumps({"Statement": [ALLOW, DENY], "Version": "2012-10-17"}, indent=2)
    spans = statement_spans(text)
    assert spans[0] == Span(Position(3, 5), Position(8, 6))
    assert spans[1].start == Position(9, 5)


def test_a_single_statement_object_and_other_texts() -> None:
    assert len(statement_spans(json.dumps({"Statement": ALLOW}))) == 1
    assert statement_spans("Statement:\n  - Effect: Allow\n") == []  # YAML: no positions
    assert statement_spans('{"Version": "2012-10-17"}') == []
    assert statement_spans("{not json") == []


def test_statement_at_finds_the_span_holding_a_position_or_the_nearest_start() -> None:
    text = json.dumps({"Statement": [ALLOW, DENY]}, indent=2)
    spans = statement_spans(text)
    assert statement_at(text, spans[1].start) == 1
    assert statement_at(text, Position(spans[1].start.line, spans[1].start.column - 1)) == 1
    assert statement_at(text, Position(1, 1)) == 0
    assert statement_at("[]", Position(1, 1)) is None
