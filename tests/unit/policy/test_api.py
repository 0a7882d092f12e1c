"""The public API: parsing, principals, requests and the shape of decisions."""

from __future__ import annotations

import importlib

import pytest

from harness.policy import Kind, Policy, PolicyError, Principal, Request, StatementRef, evaluate

KEY = "arn:aws:kms:us-east-1:111111111111:key/k1"


def test_assumed_role_session_arn() -> None:
    p = Principal.from_arn("arn:aws:sts::222222222222:assumed-role/r/s")
    assert (p.kind, p.account, p.role_arn, p.session) == (
        Kind.ASSUMED_ROLE,
        "222222222222",
        "arn:aws:iam::222222222222:role/r",
        "s",
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("111111111111", Kind.ROOT),
        ("arn:aws:iam::111111111111:root", Kind.ROOT),
        ("arn:aws:iam::111111111111:user/path/bob", Kind.USER),
        ("arn:aws:iam::111111111111:role/path/r", Kind.ROLE),
        ("arn:aws:sts::111111111111:federated-user/bob", Kind.FEDERATED_USER),
    ],
)
def test_principal_kinds(text: str, kind: Kind) -> None:
    assert Principal.from_arn(text).kind is kind


@pytest.mark.parametrize("text", ["arn:aws:s3:::bucket", "arn:aws:iam::12:role/r", "bob"])
def test_bad_principal_arns(text: str) -> None:
    with pytest.raises(PolicyError):
        Principal.from_arn(text)


def test_principal_context_keys() -> None:
    request = Request(
        Principal.from_arn("arn:aws:sts::222222222222:assumed-role/r/s"), "kms:Decrypt", KEY
    )
    assert request.get("AWS:PrincipalArn") == "arn:aws:iam::222222222222:role/r"
    assert request.get("aws:principalaccount") == "222222222222"
    assert request.get("aws:username") is None


def test_requests_are_hashable_and_compare_by_value() -> None:
    p = Principal.from_arn("arn:aws:iam::111111111111:role/a")
    one = Request(p, "kms:Decrypt", KEY, {"aws:TagKeys": ["a", "b"], "X:Y": "1"})
    two = Request(p, "kms:Decrypt", KEY, {"x:y": "1", "aws:tagkeys": ("a", "b")})
    assert one == two and hash(one) == hash(two)
    assert len({one, two}) == 1
    assert one.get("aws:TagKeys") == ("a", "b")


def test_context_scalars_are_text() -> None:
    p = Principal.from_arn("arn:aws:iam::111111111111:role/a")
    request = Request(
        p, "s3:ListBucket", "arn:aws:s3:::b", {"aws:SecureTransport": True, "s3:max-keys": 10}
    )
    assert request.get("aws:securetransport") == "true"
    assert request.get("s3:max-keys") == "10"


def test_context_lists_are_tuples_of_text() -> None:
    p = Principal.from_arn("arn:aws:iam::111111111111:role/a")
    request = Request(p, "s3:PutObject", "arn:aws:s3:::b/k", {"a:b": [True, 2, "c"], "c:d": ["e"]})
    assert request.get("a:b") == ("true", "2", "c")
    assert request.get("c:d") == ("e",)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"Statement": [{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}]}, "Effect"),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "Action"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3", "Resource": "*"}]}, "malformed action"),
        ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:*"}]}, "NotAction"),
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:*",
                        "Resource": "*",
                        "Condition": {"StringSortOf": {"a": "b"}},
                    }
                ]
            },
            "StringSortOf",
        ),
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:*",
                        "Resource": "*",
                        "Condition": {"IpAddress": {"aws:SourceIp": "not-an-ip"}},
                    }
                ]
            },
            "IpAddress",
        ),
        (
            {
                "Statement": [
                    {"Sid": "P", "Effect": "Allow", "Action": "s3:*", "Principal": {"Someone": "x"}}
                ]
            },
            "'P'",
        ),
        ({"Statement": []}, "Statement"),
        (
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:*",
                        "Principal": {"AWS": "arn:aws:iam::111111111111:role/*"},
                    }
                ]
            },
            "wildcards are not allowed in a principal",
        ),
        ("{not json: [", "neither JSON nor YAML"),
    ],
)
def test_parse_errors_name_the_policy(doc: object, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.parse(doc, name="bucket policy of b")  # type: ignore[arg-type]
    assert "bucket policy of b" in str(caught.value)
    assert message in str(caught.value)


def test_decision_names_policy_and_sid() -> None:
    key_policy = Policy.parse(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Use",
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111111111111:role/a"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                }
            ],
        },
        name=f"key policy {KEY}",
    )
    request = Request(Principal.from_arn("arn:aws:iam::111111111111:role/a"), "kms:Decrypt", KEY)
    decision = evaluate(request, resource=key_policy, resource_kind="kms-key")
    assert decision.allowed and bool(decision)
    assert decision.statements == (StatementRef(f"key policy {KEY}", "key", "Use", "Allow"),)
    assert f"statement 'Use' of key policy {KEY}" in decision.reason


def test_implicit_deny_reason() -> None:
    request = Request(Principal.from_arn("arn:aws:iam::111111111111:role/a"), "kms:Decrypt", KEY)
    decision = evaluate(request, identity=[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}])
    assert not decision.allowed
    assert decision.reason.startswith("Denied: no statement allowed it")
    assert decision.statements == ()


def test_s3_resource_needs_an_account() -> None:
    request = Request(
        Principal.from_arn("arn:aws:iam::111111111111:role/a"),
        "s3:GetObject",
        "arn:aws:s3:::bucket/key",
    )
    with pytest.raises(PolicyError, match="resource_account"):
        evaluate(request)


@pytest.mark.parametrize(
    ("where", "doc", "message"),
    [
        (
            "resource",
            {"Sid": "NoPrincipal", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},
            "statement 'NoPrincipal' of resource policy: a resource-based policy statement needs",
        ),
        (
            "identity",
            {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
            "statement #0 of identity policy #0: an identity-based policy statement must not have",
        ),
    ],
)
def test_principal_element_where_aws_rejects_it(where: str, doc: dict, message: str) -> None:
    request = Request(Principal.from_arn("arn:aws:iam::111111111111:role/a"), "kms:Decrypt", KEY)
    kwargs = {"resource": doc} if where == "resource" else {"identity": [doc]}
    with pytest.raises(PolicyError, match=message):
        evaluate(request, **kwargs)


def test_policy_text_is_compiled_once() -> None:
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*"}}'
    assert Policy.coerce(text, "p") is Policy.coerce(text, "p")
    assert Policy.coerce(text, "p") is not Policy.coerce(text, "q")


BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::222222222222:role/reader"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::bucket/data/*",
        },
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::bucket/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
}
READER_IDENTITY = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def _read(key: str, secure: str, bucket_policy: Policy, identity: Policy) -> object:
    request = Request(
        Principal.from_arn("arn:aws:iam::222222222222:role/reader"),
        "s3:GetObject",
        f"arn:aws:s3:::bucket/{key}",
        {"aws:SecureTransport": secure},
    )
    return evaluate(request, [identity], bucket_policy, resource_account="111111111111")


def test_requests_sharing_a_plan_are_each_decided_on_their_resource_and_context() -> None:
    """The engine plans a caller, action and policy set once: each request still gets the
    decision and reason of its own resource and context."""
    bucket = Policy.parse(BUCKET_POLICY, "bucket policy")
    identity = Policy.parse(READER_IDENTITY, "reader")
    first, again, other, insecure = (
        _read("data/a", "true", bucket, identity),
        _read("data/b", "true", bucket, identity),
        _read("models/c", "true", bucket, identity),
        _read("data/d", "false", bucket, identity),
    )
    assert first.allowed and again.allowed and not other.allowed and not insecure.allowed
    assert "arn:aws:s3:::bucket/data/a by" in first.reason
    assert again.reason == first.reason.replace("bucket/data/a", "bucket/data/b")
    assert "bucket/models/c" in other.reason and "no statement of bucket policy" in other.reason
    assert insecure.statements[0].sid == "TlsOnly" and "bucket/data/d" in insecure.reason
    assert first.matched == again.matched != insecure.matched


def test_a_changed_policy_is_a_new_plan() -> None:
    identity = Policy.parse(READER_IDENTITY, "reader")
    bucket = Policy.parse(BUCKET_POLICY, "bucket policy")
    assert _read("data/a", "true", bucket, identity).allowed
    changed = Policy.parse({**BUCKET_POLICY, "Statement": BUCKET_POLICY["Statement"][1:]}, "b")
    assert not _read("data/a", "true", changed, identity).allowed


def test_a_policy_name_holding_the_reason_placeholder_is_left_intact() -> None:
    """Outcomes keep their reason split where it names the resource; a name that holds the
    placeholder itself must not be taken for the resource."""
    from harness.policy.evaluate import _PLACEHOLDER

    bucket = Policy.parse(BUCKET_POLICY, f"bucket policy {_PLACEHOLDER}")
    identity = Policy.parse(READER_IDENTITY, "reader")
    for key in ("data/a", "data/b", "data/c"):
        decision = _read(key, "false", bucket, identity)
        assert f"Deny in statement 'TlsOnly' of bucket policy {_PLACEHOLDER} (" in decision.reason
        assert f"arn:aws:s3:::bucket/{key} by" in decision.reason


def test_a_request_does_not_change_its_principals_keys() -> None:
    """Requests start from a copy of the keys worked out with the principal."""
    principal = Principal.from_arn("arn:aws:iam::111111111111:user/alice")
    Request(principal, "s3:GetObject", KEY, {"aws:PrincipalAccount": "999999999999", "x:y": "1"})
    later = Request(principal, "s3:GetObject", KEY)
    assert later.get("aws:principalaccount") == "111111111111"
    assert later.get("x:y") is None
    principal.context()["aws:username"] = "mallory"
    assert Request(principal, "s3:GetObject", KEY).get("aws:username") == "alice"


def test_condition_key_names_stay_case_insensitive_past_the_remembered_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = importlib.import_module("harness.policy.evaluate")  # not the package's function
    monkeypatch.setattr(module, "_KEYS_REMEMBERED", 3)
    monkeypatch.setattr(module, "_LOWER_KEYS", {})
    p = Principal.from_arn("arn:aws:iam::111111111111:role/a")
    for n in range(10):
        request = Request(p, "s3:GetObject", KEY, {f"X:Key{n}": str(n), "aws:SourceIp": "10.0.0.1"})
        assert request.get(f"x:KEY{n}") == str(n)
        assert request.get("AWS:SOURCEIP") == "10.0.0.1"
        assert len(module._LOWER_KEYS) <= 3


def test_a_plans_inlined_tests_are_each_statements_holds_for() -> None:
    """Plans inline ``holds_for`` from ``checks`` (resource tests as one call where they
    can, a key's single value tested inline): the statements a decision cites as matched are
    exactly those whose ``holds_for`` says so, for every form a test takes."""
    condition = {
        "single": {"Bool": {"aws:SecureTransport": "false"}},
        "ip": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        "null": {"Null": {"aws:TagKeys": "false"}},
        "any value": {"StringLike": {"aws:username": "*"}},
        "set": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["project", "owner"]}},
        "ignore case": {"StringEqualsIgnoreCase": {"aws:username": ["ALICE", "carol"]}},
        "variable": {"StringNotEquals": {"aws:username": "${aws:PrincipalTag/team}"}},
        "negated": {"StringNotLike": {"aws:SourceIp": ["10.*", "192.0.2.1"]}},
    }
    resource = {
        "prefix": {"Resource": "arn:aws:s3:::b/data/*"},
        "not prefix": {"NotResource": "arn:aws:s3:::b/data/*"},
        "literal": {"Resource": ["arn:aws:s3:::b/other", "arn:aws:s3:::b/x"]},
        "mixed": {"Resource": ["arn:aws:s3:::b/*/x?", "arn:aws:s3:::b/other", "arn:*:s3:::b/d*"]},
        "variable": {"Resource": "arn:aws:s3:::b/${aws:username}/*"},
        "everything": {"Resource": "*"},
    }
    statements = [
        {"Sid": f"{where}-{when}", "Effect": effect, "Action": "s3:*", **r, "Condition": c}
        for effect, (where, r) in zip(("Allow", "Deny") * 3, resource.items(), strict=True)
        for when, c in condition.items()
    ]
    policy = Policy.parse({"Version": "2012-10-17", "Statement": statements}, "p")
    alice = Principal.from_arn("arn:aws:iam::111111111111:user/alice")
    contexts = [
        {"aws:SecureTransport": "false", "aws:SourceIp": "10.1.2.3"},
        {"aws:SecureTransport": "TRUE", "aws:SourceIp": "192.0.2.1", "aws:TagKeys": ["owner"]},
        {"aws:SourceIp": "not an address", "aws:TagKeys": ["x", "project"]},
        {"aws:TagKeys": [], "aws:PrincipalTag/team": "alice"},
        {"aws:username": "Carol", "aws:PrincipalTag/team": "ops"},
    ]
    resources = ["arn:aws:s3:::b/data/x", "arn:aws:s3:::b/x", "arn:aws:s3:::b/alice/y"]
    resources += ["arn:aws:s3:::b/dd/x1", "arn:aws:s3:::b/other"]
    seen = set()
    for target in resources:
        for context in contexts:
            request = Request(alice, "s3:GetObject", target, context)
            expected = {s.sid for s in policy.statements if s.holds_for(target, request.get)}
            decision = evaluate(request, [policy], resource_account="111111111111")
            matched = {ref.sid for ref in decision.matched}
            assert matched == expected, (target, context)
            seen |= expected
    assert len(seen) > len(statements) / 2  # most statements hold for some request
