"""Properties of the decision that must hold for any policies (hypothesis).

Thousands of scenarios per property in ``tox -e proof`` (``PROPERTY_EXAMPLES``); the unit
suite draws a hundred, to stay fast, as the differential test does.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.policy import Principal, Request, evaluate

EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "100"))
ACCOUNTS = ["111111111111", "222222222222"]
ACTIONS = ["s3:GetObject", "s3:PutObject", "kms:Decrypt", "kms:GenerateDataKey"]
ACTION_PATTERNS = [*ACTIONS, "s3:*", "kms:*", "*", "s3:Get*", "KMS:decrypt"]
RESOURCES = ["arn:aws:s3:::bucket/a.txt", "arn:aws:kms:us-east-1:111111111111:key/k1"]
RESOURCE_PATTERNS = [*RESOURCES, "*", "arn:aws:s3:::bucket/*", "arn:aws:kms:*:*:key/*"]
PRINCIPALS = [
    "arn:aws:iam::111111111111:role/app",
    "arn:aws:sts::111111111111:assumed-role/app/s",
    "arn:aws:iam::222222222222:role/other",
    "arn:aws:iam::222222222222:user/bob",
]
PRINCIPAL_ENTRIES = [*PRINCIPALS, *ACCOUNTS, "arn:aws:iam::222222222222:root", "*"]
CONDITIONS = [
    None,
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
    {"StringEqualsIfExists": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    {"Null": {"aws:SourceIp": "true"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
]
CONTEXTS = st.fixed_dictionaries(
    {},
    optional={
        "aws:SecureTransport": st.sampled_from(["true", "false"]),
        "s3:x-amz-server-side-encryption": st.sampled_from(["aws:kms", "AES256"]),
        "kms:ViaService": st.sampled_from([f"{s}.us-east-1.amazonaws.com" for s in ("s3", "ec2")]),
        "aws:TagKeys": st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
    },
)


def statement(effect: str, with_principal: bool) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "Effect": st.just(effect),
        "Action": st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2),
        "Resource": st.sampled_from(RESOURCE_PATTERNS),
    }
    if with_principal:
        fields["Principal"] = st.sampled_from(PRINCIPAL_ENTRIES).map(
            lambda p: p if p == "*" else {"AWS": p}
        )
    condition = st.sampled_from([None, None, None, *CONDITIONS])
    return st.tuples(st.fixed_dictionaries(fields), condition).map(
        lambda pair: {**pair[0], "Condition": pair[1]} if pair[1] else pair[0]
    )


def statements(with_principal: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    allow = statement("Allow", with_principal)
    any_statement = st.one_of(allow, allow, statement("Deny", with_principal))
    return st.lists(any_statement, max_size=3)


ALLOW_IDENTITY, DENY_IDENTITY = statement("Allow", False), statement("Deny", False)
ALLOW_RESOURCE, DENY_RESOURCE = statement("Allow", True), statement("Deny", True)
IDENTITY_STATEMENTS, RESOURCE_STATEMENTS = statements(False), statements(True)
# Built once: hypothesis validates a strategy the first time it draws from it, and a strategy
# built inside a test or a composite is a new one on every example (most of the time it took).


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    resource = draw(st.sampled_from(RESOURCES))
    kind = "kms-key" if ":kms:" in resource else draw(st.sampled_from(["generic", "role-trust"]))
    return {
        "request": Request(
            Principal.from_arn(draw(st.sampled_from(PRINCIPALS))),
            draw(st.sampled_from(ACTIONS)),
            resource,
            draw(CONTEXTS),
        ),
        "identity": draw(IDENTITY_STATEMENTS),
        "resource": draw(RESOURCE_STATEMENTS),
        "kind": kind,
    }


def decide(
    s: dict[str, Any], identity: list[dict[str, Any]], resource: list[dict[str, Any]]
) -> Any:
    return evaluate(
        s["request"],
        identity=[identity] if identity else [],
        resource=resource or None,
        resource_account="111111111111",
        resource_kind=s["kind"],
    )


@settings(max_examples=EXAMPLES, deadline=None)
@given(scenarios(), st.data())
def test_adding_a_deny_never_turns_a_deny_into_an_allow(s: dict[str, Any], data: Any) -> None:
    before = decide(s, s["identity"], s["resource"])
    if data.draw(st.booleans()):
        after = decide(s, [*s["identity"], data.draw(DENY_IDENTITY)], s["resource"])
    else:
        after = decide(s, s["identity"], [*s["resource"], data.draw(DENY_RESOURCE)])
    assert before.allowed or not after.allowed, after.reason


@settings(max_examples=EXAMPLES, deadline=None)
@given(scenarios(), st.data())
def test_adding_an_allow_never_lifts_an_explicit_deny(s: dict[str, Any], data: Any) -> None:
    before = decide(s, s["identity"], s["resource"])
    if before.allowed or not before.reason.startswith("Denied: explicit Deny"):
        return
    if data.draw(st.booleans()):
        after = decide(s, [*s["identity"], data.draw(ALLOW_IDENTITY)], s["resource"])
    else:
        after = decide(s, s["identity"], [*s["resource"], data.draw(ALLOW_RESOURCE)])
    assert not after.allowed
    assert after.reason.startswith("Denied: explicit Deny")


@settings(max_examples=EXAMPLES, deadline=None)
@given(scenarios())
def test_cross_account_never_allows_on_one_side_alone(s: dict[str, Any]) -> None:
    if s["request"].principal.account == "111111111111":
        return
    assert not decide(s, s["identity"], []).allowed
    assert not decide(s, [], s["resource"]).allowed
