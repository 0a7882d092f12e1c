"""What a decision cites: the deciding statements, every matching one, and what was lacking."""

from __future__ import annotations

import typing
from typing import Any

from harness.evidence import PolicyKind as EvidenceKind
from harness.policy import Policy, PolicyKind, Principal, Request, StatementRef, evaluate

A, B = "111111111111", "222222222222"
KEY = f"arn:aws:kms:us-east-1:{A}:key/k1"
ROLE_A = Principal.from_arn(f"arn:aws:sts::{A}:assumed-role/writer/s")
ROLE_B = Principal.from_arn(f"arn:aws:sts::{B}:assumed-role/reader/s")
USE_KEY = {"Sid": "UseKey", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}


def _policy(name: str, *statements: dict[str, Any]) -> Policy:
    return Policy.parse({"Version": "2012-10-17", "Statement": list(statements)}, name=name)


def _key_policy(*statements: dict[str, Any]) -> Policy:
    return _policy(f"key policy {KEY}", *statements)


def _ref(policy: Policy, sid: str, kind: PolicyKind) -> StatementRef:
    statement = next(s for s in policy.statements if s.sid == sid)
    return StatementRef(policy.name, kind, sid, statement.effect)


def test_kinds_are_the_evidence_kinds() -> None:
    assert set(typing.get_args(PolicyKind)) == {kind.value for kind in EvidenceKind}


def test_overlapping_denies_are_all_deciding_and_allows_still_matched() -> None:
    bucket = _policy(
        "bucket policy of b",
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyNotKms",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        },
        {
            "Sid": "Writers",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:role/writer"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::b/*",
        },
    )
    identity = _policy("writer policy", {**USE_KEY, "Sid": "Put", "Action": "s3:PutObject"})
    request = Request(
        ROLE_A,
        "s3:PutObject",
        "arn:aws:s3:::b/k",
        {"aws:SecureTransport": "false", "s3:x-amz-server-side-encryption": "AES256"},
    )
    decision = evaluate(request, [identity], bucket, resource_account=A)
    denies = (
        _ref(bucket, "DenyInsecureTransport", "resource"),
        _ref(bucket, "DenyNotKms", "resource"),
    )
    assert not decision.allowed
    assert decision.statements == denies
    assert decision.matched == (
        _ref(identity, "Put", "identity"),
        *denies[:1],
        denies[1],
        _ref(bucket, "Writers", "resource"),
    )
    assert decision.lacking == ()


def test_same_account_key_policy_delegation() -> None:
    key = _key_policy(
        {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": A}, "Action": "kms:*"}
    )
    identity = _policy("writer policy", USE_KEY)
    request = Request(ROLE_A, "kms:Decrypt", KEY)
    allowed = evaluate(request, [identity], key, resource_kind="kms-key")
    cited = (_ref(key, "Account", "key"), _ref(identity, "UseKey", "identity"))
    assert allowed.allowed and allowed.statements == cited and allowed.lacking == ()
    assert set(allowed.matched) == set(cited)
    without_identity = evaluate(request, [], key, resource_kind="kms-key")
    assert without_identity.lacking == ("identity",) and without_identity.statements == ()
    assert without_identity.matched == (_ref(key, "Account", "key"),)


def test_key_policy_that_neither_names_nor_delegates_is_lacking() -> None:
    key = _key_policy(
        {
            "Sid": "Other",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:role/other"},
            "Action": "kms:*",
        }
    )
    identity = _policy("writer policy", USE_KEY)
    decision = evaluate(
        Request(ROLE_A, "kms:Decrypt", KEY), [identity], key, resource_kind="kms-key"
    )
    assert not decision.allowed and decision.lacking == ("key",)
    assert decision.matched == (_ref(identity, "UseKey", "identity"),)
    assert evaluate(
        Request(ROLE_A, "kms:Decrypt", KEY), [], key, resource_kind="kms-key"
    ).lacking == (
        "key",
        "identity",
    )


def test_cross_account_needs_the_callers_identity_policy() -> None:
    key = _key_policy(
        {
            "Sid": "Reader",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{B}:role/reader"},
            "Action": "kms:Decrypt",
        }
    )
    request = Request(ROLE_B, "kms:Decrypt", KEY)
    refused = evaluate(request, [], key, resource_kind="kms-key")
    assert (refused.allowed, refused.statements, refused.lacking) == (False, (), ("identity",))
    assert refused.matched == (_ref(key, "Reader", "key"),)
    identity = _policy("reader policy", USE_KEY)
    allowed = evaluate(request, [identity], key, resource_kind="kms-key")
    assert allowed.statements == (_ref(key, "Reader", "key"), _ref(identity, "UseKey", "identity"))
    nobody = evaluate(request, [identity], _key_policy({**USE_KEY, "Principal": {"AWS": A}}))
    assert nobody.lacking == ("resource",)


def test_boundary_lacking_or_part_of_the_grant() -> None:
    identity = _policy("writer policy", USE_KEY)
    request = Request(ROLE_A, "kms:Decrypt", KEY)
    narrow = _policy("boundary of role writer", {**USE_KEY, "Sid": "S3", "Action": "s3:*"})
    refused = evaluate(request, [identity], boundary=narrow)
    assert (refused.allowed, refused.lacking) == (False, ("boundary",))
    wide = _policy("boundary of role writer", {**USE_KEY, "Sid": "Kms"})
    allowed = evaluate(request, [identity], boundary=wide)
    assert allowed.statements == (
        _ref(identity, "UseKey", "identity"),
        _ref(wide, "Kms", "boundary"),
    )


def test_root_cannot_assume_a_role_by_rule() -> None:
    trust = _policy(
        "trust policy of r",
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole"},
    )
    role = f"arn:aws:iam::{A}:role/r"
    decision = evaluate(
        Request(Principal.from_arn(A), "sts:AssumeRole", role),
        [],
        trust,
        resource_kind="role-trust",
    )
    assert (decision.allowed, decision.statements, decision.lacking) == (False, (), ("rule",))
    assert decision.matched == (_ref(trust, "Root", "trust"),)


def test_a_service_the_trust_policy_does_not_name_lacks_trust() -> None:
    trust = _policy(
        "trust policy of r",
        {
            "Sid": "Pipeline",
            "Effect": "Allow",
            "Principal": {"Service": "codepipeline.amazonaws.com"},
            "Action": "sts:AssumeRole",
        },
    )
    role = f"arn:aws:iam::{A}:role/r"
    service = Principal.service("lambda.amazonaws.com")
    decision = evaluate(
        Request(service, "sts:AssumeRole", role), [], trust, resource_kind="role-trust"
    )
    assert decision.lacking == ("trust",) and decision.matched == ()


def test_an_scp_that_allows_nothing_is_lacking() -> None:
    identity = _policy("writer policy", USE_KEY)
    scp = _policy("SCP of the root", {**USE_KEY, "Sid": "S3Only", "Action": "s3:*"})
    decision = evaluate(Request(ROLE_A, "kms:Decrypt", KEY), [identity], scps=[scp])
    assert decision.lacking == ("scp",)
