"""Single-edit mutants: what each operator makes of a statement, and what is left out (edits
identical to the original, policies AWS refuses)."""

from __future__ import annotations

from collections import Counter

from harness.mutate.mutants import account_roots, canonical, generate, same_policy
from harness.mutate.sites import Kind, Site

A, B = "111111111111", "222222222222"
ROLE_B = f"arn:aws:iam::{B}:role/reader"
KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Use",
            "Effect": "Allow",
            "Principal": {"AWS": ROLE_B},
            "Action": ["kms:Decrypt", "kms:Encrypt"],
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        },
        {
            "Sid": "NoPlainPuts",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:PutObject", "kms:Encrypt"],
            "NotResource": "arn:aws:s3:::b/ok/*",
        },
    ],
}


def _operators(site: Site) -> Counter[str]:
    return Counter(f"{m.sid}: {m.operator}" for m in generate([site]).mutants)


def test_each_operator_on_a_resource_policy() -> None:
    site = Site(Kind.KEY, "arn:aws:kms:us-east-1:111111111111:key/k", A, KEY_POLICY)
    generated = generate([site])
    assert _operators(site) == Counter(
        {
            "Use: remove the statement": 1,
            "Use: drop its Condition": 1,
            "Use: widen Principal to the account root": 1,
            "Use: widen Principal to *": 1,
            "Use: widen Action to kms:*": 1,
            "Use: flip Effect to Deny": 1,
            "NoPlainPuts: remove the statement": 1,
            "NoPlainPuts: widen Resource to *": 1,
            "NoPlainPuts: widen Action to s3:*": 1,
            "NoPlainPuts: widen Action to kms:*": 1,
            "NoPlainPuts: flip Effect to Allow": 1,
        }
    )
    # Resource "*" and Principal "*" cannot be widened: those edits are identical, not mutants.
    assert set(generated.identical) == {
        "key #0 Use: widen Resource to *",
        "key #1 NoPlainPuts: widen Principal to the account root",
        "key #1 NoPlainPuts: widen Principal to *",
    }
    by_operator = {m.operator: m for m in generated.mutants if m.sid == "Use"}
    assert by_operator["widen Principal to the account root"].after["Principal"] == {
        "AWS": [f"arn:aws:iam::{B}:root"]
    }
    widened = next(m for m in generated.mutants if m.operator == "widen Action to s3:*")
    assert widened.after["Action"] == ["kms:Encrypt", "s3:*"]  # the other service's kept
    assert widened.after["NotResource"] == "arn:aws:s3:::b/ok/*"
    anything = next(m for m in generated.mutants if m.operator == "widen Resource to *")
    assert "NotResource" not in anything.after and anything.after["Resource"] == "*"


def test_identity_policies_get_no_principal_mutants() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        ],
    }
    site = Site(Kind.IDENTITY, f"arn:aws:iam::{A}:role/r", A, document, "inline")
    generated = generate([site])
    assert [m.operator for m in generated.mutants] == [
        "remove the statement",
        "widen Action to s3:*",
        "flip Effect to Deny",
    ]
    # The only statement removed: the inline policy goes (DeleteRolePolicy).
    assert generated.mutants[0].document is None


def test_a_trust_policy_without_a_statement_is_refused_not_tried() -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Service",
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    site = Site(Kind.TRUST, f"arn:aws:iam::{B}:role/r", B, trust)
    generated = generate([site])
    assert list(generated.rejected) == ["trust r #0 Service: remove the statement"]
    operators = [m.operator for m in generated.mutants]
    assert operators == [
        "widen Principal to the account root",
        "widen Principal to *",
        "widen Action to sts:*",
        "flip Effect to Deny",
    ]
    # A service principal acts for the resource's own account.
    assert generated.mutants[0].after["Principal"] == {"AWS": [f"arn:aws:iam::{B}:root"]}


def test_narrowing_mutants() -> None:
    site = Site(Kind.KEY, "arn:aws:kms:us-east-1:111111111111:key/k", A, KEY_POLICY)
    narrowing = {f"{m.sid}: {m.operator}" for m in generate([site]).mutants if m.narrows}
    assert narrowing == {
        "Use: remove the statement",
        "Use: flip Effect to Deny",
        "NoPlainPuts: widen Resource to *",
        "NoPlainPuts: widen Action to s3:*",
        "NoPlainPuts: widen Action to kms:*",
    }


def test_equal_meaning_is_equal() -> None:
    assert same_policy({"Action": "s3:GetObject"}, {"Action": ["s3:GetObject"]})
    assert same_policy({"Action": ["a:B", "a:C"]}, {"Action": ["a:C", "a:B"]})
    assert not same_policy({"Effect": "Allow"}, {"Effect": "Deny"})
    assert same_policy(None, None) and not same_policy(None, {})
    assert canonical({"Sid": "x"}) == {"Sid": "x"}


def test_account_roots() -> None:
    assert account_roots("*", A) == "*"
    assert account_roots({"AWS": ["*", ROLE_B]}, A) == "*"
    assert account_roots({"AWS": [ROLE_B, B, f"arn:aws:iam::{A}:root"]}, A) == {
        "AWS": [f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:root"]
    }
