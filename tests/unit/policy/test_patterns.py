"""Wildcard patterns: ARN components, case rules and policy variables."""

from __future__ import annotations

import pytest

from harness.policy.patterns import Pattern, alternation

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
