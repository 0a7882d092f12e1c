"""Wildcard patterns: ARN components, case rules and policy variables."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.policy.patterns import Pattern, PatternSet, alternation

CONTEXT = {"aws:username": "alice", "aws:tagkeys": ("a", "b")}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b/c", True),  # resource keeps colons
        ("arn:aws:kms:*:111111111111:key/*", "arn:aws:kms:eu-west-1:111111111111:key/k", True),
        ("arn:aws:kms:*:111111111111:key/*", "arn:aws:kms:eu-west-1:222222222222:key/k", False),
        ("arn:aws:kms:*:*:key/*", "arn:aws:kms:us-east-1:111111111111:alias/k", False),
        ("arn:aws:kms:us-*:*:key/*", "arn:aws:kms:us-east-1:111111111111:key/k", True),
        ("arn:aws:iam::*:role/a?c", "arn:aws:iam::111111111111:role/abc", True),
        ("arn:aws:iam::*:role/a?c", "arn:aws:iam::111111111111:role/ac", False),
        ("*", "anything:at:all", True),
    ],
)
def test_arn_patterns(pattern: str, value: str, expected: bool) -> None:
    assert Pattern(pattern, arn=True).matches(value, CONTEXT.get) is expected


def test_variables_are_literal_values() -> None:
    pattern = Pattern("arn:aws:s3:::b/${aws:username}/*", arn=True, variables=True)
    assert pattern.has_variables
    assert pattern.matches("arn:aws:s3:::b/alice/x", CONTEXT.get)
    assert not pattern.matches("arn:aws:s3:::b/bob/x", CONTEXT.get)
    assert not pattern.matches("arn:aws:s3:::b/alice/x", {}.get)  # unresolved: no match


def test_multivalued_key_cannot_be_a_variable() -> None:
    pattern = Pattern("${aws:TagKeys}", variables=True)
    assert not pattern.matches("a", CONTEXT.get)


def test_without_variables_dollar_text_is_literal() -> None:
    pattern = Pattern("home/${aws:username}", variables=False)
    assert not pattern.has_variables
    assert pattern.matches("home/${aws:username}", CONTEXT.get)


def test_exact_patterns_ignore_wildcards() -> None:
    assert not Pattern("a*", wildcards=False).matches("abc", CONTEXT.get)
    assert Pattern("a*", wildcards=False).matches("a*", CONTEXT.get)


def test_action_alternation_ignores_case() -> None:
    regex = alternation(("s3:Get*", "kms:Decrypt"), ignore_case=True)
    assert regex.match("S3:GETOBJECT")
    assert regex.match("kms:decrypt")
    assert not regex.match("kms:DecryptX")


# Few letters, so that generated patterns and values often meet; each form the quick test
# takes (literals only, prefixes only, anything else) is common, and patterns that ignore case
# share sets with patterns that do not.
_TEXT = st.text("aAb:/*?$", max_size=8)
_WORD = st.text("aAb:/$", max_size=6)
_PATTERN = st.one_of(_WORD, _WORD.map(lambda word: word + "*"), _TEXT)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(_PATTERN, st.booleans()), min_size=1, max_size=3),
    st.lists(_TEXT, min_size=1, max_size=6),
    st.booleans(),
    st.booleans(),
)
def test_a_sets_quick_test_is_its_matches(
    patterns: list[tuple[str, bool]], values: list[str], arn: bool, wildcards: bool
) -> None:
    """The one-call test the engine uses (a set lookup, a ``startswith`` or one regex)
    answers as ``matches`` does, and exists whenever no pattern needs the context."""
    compiled = PatternSet(
        tuple(
            Pattern(
                f"arn:a:s:r:1:{p}" if arn else p,
                ignore_case=ignore_case,
                arn=arn,
                wildcards=wildcards,
            )
            for p, ignore_case in patterns
        )
    )
    if compiled.match_all:
        assert compiled.quick is None
        return
    assert compiled.quick is not None
    for value in (
        values
        + [f"arn:a:s:r:1:{v}" for v in values]
        + [text for p in compiled.patterns for text in (p.text, p.text.swapcase())]
    ):
        assert bool(compiled.quick(value)) is compiled.matches(value, CONTEXT.get), value


def test_a_set_with_a_variable_has_no_quick_test() -> None:
    variable = Pattern("arn:aws:s3:::b/${aws:username}/*", arn=True, variables=True)
    assert PatternSet((Pattern("arn:aws:s3:::b/x"), variable)).quick is None
    assert PatternSet((Pattern("arn:aws:s3:::b/x"), Pattern("arn:aws:s3:::c/*"))).quick
