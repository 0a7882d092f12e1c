"""Where each statement of a policy document's text starts and ends.

AWS's policy simulator cites a matched statement by its policy and its position in that
policy's text (``StartPosition``/``EndPosition``, 1-based line and column), not by Sid. The
local target computes such positions and the harness reads them back to a statement, both
with :func:`statement_spans`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


@dataclass(frozen=True)
class Position:
    """1-based line and column of a character in a document's text."""

    line: int
    column: int

    @classmethod
    def of(cls, text: str, offset: int) -> Position:
        line_start = text.rfind("\n", 0, offset) + 1
        return cls(text.count("\n", 0, offset) + 1, offset - line_start + 1)


@dataclass(frozen=True)
class Span:
    """A statement's text: from its opening brace to just past its closing one."""

    start: Position
    end: Position


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _value_end(text: str, index: int) -> int:
    return _DECODER.raw_decode(text, index)[1]


def statement_spans(text: str) -> list[Span]:
    """The span of each statement, in document order; empty when ``text`` is not a JSON
    policy document (YAML, a bare statement list) or has no ``Statement``."""
    try:
        json.loads(text)
        return _spans(text)
    except (TypeError, ValueError, IndexError):
        return []


def _spans(text: str) -> list[Span]:
    index = _skip(text, 0)
    if text[index] != "{":
        return []
    index = _skip(text, index + 1)
    while text[index] != "}":
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, _skip(text, index) + 1)  # past the colon
        if key == "Statement":
            return _element_spans(text, index)
        index = _skip(text, _value_end(text, index))
        if text[index] == ",":
            index = _skip(text, index + 1)
    return []


def _element_spans(text: str, index: int) -> list[Span]:
    """A single statement object, or each object of a statement list."""
    if text[index] == "{":
        return [_span(text, index)]
    spans: list[Span] = []
    index = _skip(text, index + 1)
    while text[index] != "]":
        spans.append(_span(text, index))
        index = _skip(text, _value_end(text, index))
        if text[index] == ",":
            index = _skip(text, index + 1)
    return spans


def _span(text: str, start: int) -> Span:
    return Span(Position.of(text, start), Position.of(text, _value_end(text, start)))


def statement_at(text: str, position: Position) -> int | None:
    """The index of the statement a cited start position designates: the one whose span
    holds it, else the one starting nearest to it (positions from AWS may be off by a
    character); None when the text has no statements."""
    spans = statement_spans(text)
    if not spans:
        return None
    key = (position.line, position.column)
    for index, span in enumerate(spans):
        if (span.start.line, span.start.column) <= key < (span.end.line, span.end.column):
            return index
    return min(
        range(len(spans)),
        key=lambda i: (
            abs(spans[i].start.line - position.line),
            abs(spans[i].start.column - position.column),
        ),
    )
