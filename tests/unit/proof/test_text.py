"""Strings into and out of z3, and the engine's patterns as regexes, read alike."""

from __future__ import annotations

import pytest
import z3

from harness.policy.patterns import Pattern
from harness.proof.errors import Unencodable
from harness.proof.text import (
    MAX_CHAR,
    decode,
    literal,
    lowering_to,
    pattern_matches,
    same_ignoring_case,
    text_regex,
)


@pytest.mark.parametrize("text", ["plain", "back\\slash", "a\\u{41}", "é€", "\x00\n", "\U0002ffff"])
def test_literals_round_trip(text: str) -> None:
    value = z3.String("v")
    solver = z3.Solver()
    solver.add(value == literal(text))
    assert solver.check() == z3.sat
    assert decode(solver.model()[value]) == text


def test_characters_z3_cannot_hold_are_refused() -> None:
    with pytest.raises(Unencodable, match="beyond U"):
        literal("\U00030000")


def test_literals_and_regexes_are_built_once_per_text() -> None:
    root = "arn:aws:iam::111111111111:root"
    assert literal(root) is literal(root) and literal(root) is not literal(root + "x")
    assert text_regex("true", lowering_to) is text_regex("true", lowering_to)
    assert text_regex("true") is not text_regex("true", lowering_to)
    for _ in range(2):  # a refusal is not kept: it is raised each time
        with pytest.raises(Unencodable, match="beyond U"):
            literal("\U00030000")


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        (
            Pattern("arn:aws:kms:*:111111111111:key/*", arn=True),
            "arn:aws:kms:us-east-1:111111111111:key/k",
        ),
        (
            Pattern("arn:aws:kms:*:111111111111:key/*", arn=True),
            "arn:aws:kms:a:b:111111111111:key/k",
        ),
        (Pattern("arn:aws:s3:::b/*", arn=True), "arn:aws:s3:::b/x:y"),
        (Pattern("home/?", wildcards=True), "home/ab"),
        (Pattern("S3:get*", ignore_case=True), "s3:GetObject"),
        (Pattern("k", ignore_case=True), "\u212a"),  # KELVIN SIGN, as re.IGNORECASE has it
        (Pattern("a*", wildcards=False), "abc"),
        (Pattern("a*", wildcards=False), "a*"),
    ],
)
def test_pattern_regexes_match_as_the_engine_does(pattern: Pattern, value: str) -> None:
    expected = pattern.matches(value, lambda _key: None)
    solver = z3.Solver()
    solver.add(z3.BoolVal(True) == pattern_matches(pattern, literal(value)))
    assert (solver.check() == z3.sat) is expected


def test_ignoring_case_follows_python_re() -> None:
    assert same_ignoring_case("s") == {"s", "S", "\u017f"}


# "k": the Kelvin sign lowers to it too; "A" and "\u0130": nothing lowers to them
@pytest.mark.parametrize("char", ["i", "k", "s", "\u03c3", "A", "\u0130", "7", ":"])
def test_lowering_to_is_every_character_str_lower_maps_onto_it(char: str) -> None:
    every = (chr(i) for i in range(MAX_CHAR + 1))
    assert lowering_to(char) == {c for c in every if c.lower() == char}
