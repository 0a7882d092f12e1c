"""What S3 Block Public Access calls public, case by case.

Each case rests on the S3 user guide, "Blocking public access to your Amazon S3 storage",
section "The meaning of public"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status),
unless its comment says it is one of the doubtful readings written down in
``harness.policy.public``.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.policy.public import is_public_acl, is_public_policy, public_statements

BUCKET = "arn:aws:s3:::data/*"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _policy(principal: Any, condition: dict[str, Any] | None = None, **extra: Any) -> dict:
    statement: dict[str, Any] = {
        "Sid": "Read",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": BUCKET,
        **extra,
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


@pytest.mark.parametrize(
    "principal",
    ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::111122223333:root", "*"]}],
)
def test_everyone_without_a_fixing_condition_is_public(principal: Any) -> None:
    assert public_statements(_policy(principal)) == ("Read",)


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": "arn:aws:iam::111122223333:root"},
        {"AWS": "arn:aws:iam::111122223333:role/reader"},
        {"Service": "cloudtrail.amazonaws.com"},
        {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
    ],
)
def test_fixed_principals_are_not_public(principal: Any) -> None:
    assert not is_public_policy(_policy(principal))


@pytest.mark.parametrize(
    ("operator", "key", "value"),
    [
        ("StringEquals", "aws:SourceAccount", "111122223333"),
        ("ArnLike", "aws:SourceArn", "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"),
        ("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"),
        ("StringEquals", "aws:SourceVpc", "vpc-111bbb22"),
        ("StringEquals", "aws:PrincipalOrgID", "o-abcdefghij"),
        ("StringEquals", "aws:PrincipalAccount", "111122223333"),
        ("ArnEquals", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/reader"),
        ("IpAddress", "aws:SourceIp", "192.0.2.0/24"),
        ("StringEquals", "aws:userid", "AIDAEXAMPLE"),
        ("StringEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:k"),
        ("ForAnyValue:StringEquals", "aws:SourceAccount", "111122223333"),
    ],
)
def test_a_fixed_value_of_a_limiting_key_makes_it_not_public(
    operator: str, key: str, value: str
) -> None:
    assert not is_public_policy(_policy("*", {operator: {key: value}}))


@pytest.mark.parametrize(
    "condition",
    [
        # a wildcard or a policy variable is not a fixed value (the guide's definition)
        {"StringLike": {"aws:SourceArn": "arn:aws:cloudtrail:*"}},
        {"StringEquals": {"aws:PrincipalAccount": "${aws:username}"}},
        {"StringLike": {"aws:userid": "AROLEID:*"}},
        # a key that is not on the guide's list limits nothing
        {"StringEquals": {"aws:PrincipalTag/team": "ml"}},
        {"Bool": {"aws:SecureTransport": "true"}},
        # doubtful readings (harness.policy.public): negated or IfExists operators, ForAllValues
        # and the whole address space fix nothing
        {"StringNotEquals": {"aws:SourceAccount": "111122223333"}},
        {"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}},
        {"ForAllValues:StringEquals": {"aws:SourceAccount": "111122223333"}},
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
    ],
)
def test_conditions_that_do_not_fix_the_caller_leave_it_public(condition: dict) -> None:
    assert is_public_policy(_policy("*", condition))


def test_denies_are_never_public_and_only_public_statements_are_named() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "NoTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": BUCKET, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "Team", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
             "Action": "s3:GetObject", "Resource": BUCKET},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
             "Resource": "arn:aws:s3:::data"},
        ],
    }  # fmt: skip
    assert public_statements(policy) == ("2",)
    assert not is_public_policy({"Statement": policy["Statement"][:2]})


def test_an_allow_with_not_principal_is_public() -> None:
    # doubtful reading: NotPrincipal grants everyone it does not name
    policy = _policy(None)
    del policy["Statement"][0]["Principal"]
    policy["Statement"][0]["NotPrincipal"] = {"AWS": "arn:aws:iam::111122223333:root"}
    assert is_public_policy(policy)


@pytest.mark.parametrize(
    ("canned", "grantees", "public"),
    [
        ("public-read", [], True),
        ("public-read-write", [], True),
        ("authenticated-read", [], True),
        ("private", [], False),
        ("bucket-owner-full-control", [], False),
        (None, [f'uri="{ALL_USERS}"'], True),
        (None, ["uri=http://acs.amazonaws.com/groups/global/AuthenticatedUsers"], True),
        (None, ['id="79a59df900b949e55d96a1e698fbaced"'], False),
        (None, ["uri=http://acs.amazonaws.com/groups/s3/LogDelivery"], False),
    ],
)
def test_public_acls(canned: str | None, grantees: list[str], public: bool) -> None:
    assert is_public_acl(canned, grantees) is public
