"""Hypothesis strategies: policies and requests over every construct the engine evaluates.

Values are drawn from small pools on purpose (names, keys, values that policies also use), so
that statements match requests often enough for every branch of the decision to be taken.
Each condition key is read as one kind of value (text, number, date or address), and policy
variables are not compared ignoring case: the model refuses those constructs, which is
tested on its own.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.policy import Principal

ACCOUNTS = ("111111111111", "222222222222")
NAMES = ("app", "ops", "a.b")
SESSIONS = ("s1", "x@y")
PATHS = ("", "div/", "aws-service-role/")  # the last: a service-linked role
SERVICES = ("s3.amazonaws.com", "sagemaker.amazonaws.com")
PROVIDERS = ("cognito-identity.amazonaws.com", "arn:aws:iam::111111111111:saml-provider/idp")

ACTIONS = ("s3:GetObject", "s3:PutObject", "kms:Decrypt", "sts:AssumeRole", "s3:ListBucket")
ACTION_PATTERNS = (*ACTIONS, "s3:*", "*", "s3:Get*", "KMS:decrypt", "s3:?etObject", "sts:*Role")
RESOURCES = (
    "arn:aws:s3:::bucket/home/app/a.txt",
    "arn:aws:s3:::bucket/data/x:y",
    "arn:aws:s3:::bucket",
    "arn:aws:kms:us-east-1:111111111111:key/k1",
    "arn:aws:iam::111111111111:role/app",
)
RESOURCE_PATTERNS = (
    *RESOURCES,
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/home/${aws:username}/*",
    "arn:aws:s3:::bucket/home/${aws:PrincipalTag/team, 'app'}/*",
    "arn:aws:s3:::bucket/${s3:prefix}*",
    "arn:aws:s3:::bucket/data/x${*}",
    "arn:aws:kms:*:111111111111:key/*",
    "arn:aws:kms:us-east-?:*:key/k1",
    "arn:aws:iam::*:role/a?p",
    "arn:aws:*",
)

# Keys by the kind of value operators read from them.
STRING_KEYS = (
    "aws:SecureTransport",
    "s3:prefix",
    "aws:PrincipalTag/team",
    "aws:TagKeys",
    "aws:PrincipalArn",
    "aws:username",
    "aws:PrincipalAccount",
    "aws:PrincipalType",
    "aws:userid",
    "kms:ViaService",
)
NUMBER_KEY, DATE_KEYS, IP_KEY = "s3:max-keys", ("aws:CurrentTime", "aws:EpochTime"), "aws:SourceIp"
STRING_VALUES = (
    "true",
    "TRUE",
    "false",
    "app",
    "APP",
    "home/",
    "home/*",
    "a?p",
    "s3.us-east-1.amazonaws.com",
    "arn:aws:iam::111111111111:role/app",
    "arn:aws:iam::*:role/*",
    "arn:aws:iam::222222222222:user/div/ops",
    "111111111111",
    "AssumedRole",
    "",
    "${aws:username}",
    "\u212a",  # KELVIN SIGN: lower() is "k", and re.IGNORECASE matches it to k/K
    "\u017f3",  # LATIN SMALL LETTER LONG S: re.IGNORECASE matches it to s/S
)
NUMBERS = ("5", "5.0", "1e1", "-3", "abc", "nan", " 7 ", "1_0")
DATES = ("2024-01-01T00:00:00Z", "2024-01-01", "1700000000", "2030-06-01T12:00:00+02:00", "x")
ADDRESSES = ("10.0.0.1", "10.1.2.3", "192.168.0.1", "::1", "2001:db8::1", "bad")
NETWORKS = ("10.0.0.0/8", "10.0.0.1/32", "2001:db8::/32", "0.0.0.0/0")

STRING_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Bool",
)
NUMBER_OPERATORS = (
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
)
DATE_OPERATORS = tuple(o.replace("Numeric", "Date") for o in NUMBER_OPERATORS)
IP_OPERATORS = ("IpAddress", "NotIpAddress")


@st.composite
def principals(draw: st.DrawFn) -> Principal:
    kind = draw(st.sampled_from(("root", "user", "role", "session", "federated", "service")))
    kind = draw(st.sampled_from((kind, kind, kind, "web", "anonymous")))
    account = draw(st.sampled_from(ACCOUNTS))
    name = draw(st.sampled_from(NAMES))
    path = draw(st.sampled_from(PATHS))
    session = draw(st.sampled_from(SESSIONS))
    arn = {
        "root": f"arn:aws:iam::{account}:root",
        "user": f"arn:aws:iam::{account}:user/{path}{name}",
        "role": f"arn:aws:iam::{account}:role/{path}{name}",
        "session": f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
        "federated": f"arn:aws:sts::{account}:federated-user/{session}",
    }.get(kind)
    if arn is not None:
        return Principal.from_arn(arn)
    if kind == "service":
        return Principal.service(draw(st.sampled_from(SERVICES)))
    if kind == "web":
        return Principal.federated(draw(st.sampled_from(PROVIDERS)))
    return Principal.anonymous()


def _qualified(operators: tuple[str, ...]) -> st.SearchStrategy[str]:
    base = st.sampled_from(operators)
    suffix = st.sampled_from(("", "", "IfExists"))
    qualifier = st.sampled_from(("", "", "", "ForAnyValue:", "ForAllValues:"))
    return st.tuples(qualifier, base, suffix).map(lambda t: "".join(t))


def _values(pool: tuple[str, ...]) -> st.SearchStrategy[Any]:
    listed = st.lists(st.sampled_from(pool), min_size=1, max_size=3)
    return st.one_of(st.sampled_from(pool), listed)


_STRING_TESTS = st.tuples(
    _qualified(STRING_OPERATORS), st.sampled_from(STRING_KEYS), _values(STRING_VALUES)
).filter(lambda t: "IgnoreCase" not in t[0] or "${" not in str(t[2]))
_CONDITION_ENTRY = st.one_of(
    _STRING_TESTS,
    _STRING_TESTS,
    st.tuples(_qualified(NUMBER_OPERATORS), st.just(NUMBER_KEY), _values(NUMBERS)),
    st.tuples(_qualified(DATE_OPERATORS), st.sampled_from(DATE_KEYS), _values(DATES)),
    st.tuples(_qualified(IP_OPERATORS), st.just(IP_KEY), _values(NETWORKS)),
    st.tuples(
        st.just("Null"),
        st.sampled_from((*STRING_KEYS, NUMBER_KEY, *DATE_KEYS, IP_KEY)),
        st.sampled_from(("true", "false", True)),
    ),
)
"""(operator, key, policy values) of one condition test."""


def _block(entries: list[tuple[str, str, Any]]) -> dict[str, dict[str, Any]] | None:
    out: dict[str, dict[str, Any]] = {}
    for operator, key, values in entries:
        out.setdefault(operator, {})[key] = values
    return out or None


CONDITIONS = st.lists(_CONDITION_ENTRY, max_size=2).map(_block)
_PRINCIPAL_ENTRIES = st.sampled_from(
    (
        *ACCOUNTS,
        "arn:aws:iam::111111111111:root",
        "arn:aws:iam::222222222222:role/app",
        "arn:aws:iam::111111111111:role/div/ops",
        "arn:aws:sts::111111111111:assumed-role/app/s1",
        "arn:aws:iam::222222222222:user/div/ops",
        "arn:aws:sts::222222222222:federated-user/x@y",
    )
)
PRINCIPAL_ELEMENTS = st.one_of(
    st.just("*"),
    st.one_of(_PRINCIPAL_ENTRIES, st.lists(_PRINCIPAL_ENTRIES, min_size=1, max_size=3)).map(
        lambda v: {"AWS": v}
    ),
    st.sampled_from(SERVICES).map(lambda s: {"Service": s}),
    st.sampled_from(PROVIDERS).map(lambda p: {"Federated": p}),
    st.just({"AWS": "*"}),
    st.just({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}),
)
_ACTIONS = st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=2)
_RESOURCES = st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2)
_EFFECTS = st.sampled_from(("Allow", "Allow", "Deny"))
_ONE_IN_SIX = st.integers(0, 5).map(lambda n: n == 0)


@st.composite
def _statement(draw: st.DrawFn, with_principal: bool) -> dict[str, Any]:
    raw: dict[str, Any] = {"Effect": draw(_EFFECTS)}
    raw["NotAction" if draw(_ONE_IN_SIX) else "Action"] = draw(_ACTIONS)
    if not draw(_ONE_IN_SIX):
        raw["NotResource" if draw(_ONE_IN_SIX) else "Resource"] = draw(_RESOURCES)
    elif not with_principal:
        raw["Resource"] = "*"
    if with_principal:
        raw["NotPrincipal" if draw(_ONE_IN_SIX) else "Principal"] = draw(PRINCIPAL_ELEMENTS)
    condition = draw(CONDITIONS)
    if condition:
        raw["Condition"] = condition
    return raw


def _policy(statement: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return st.lists(statement, min_size=1, max_size=3).map(
        lambda statements: {"Version": "2012-10-17", "Statement": statements}
    )


IDENTITY_POLICIES = _policy(_statement(False))
RESOURCE_POLICIES = st.one_of(st.none(), _policy(_statement(True)))
_FREE_STRINGS = ("aws:SecureTransport", "s3:prefix", "aws:PrincipalTag/team", "kms:ViaService")
CONTEXTS = st.fixed_dictionaries(
    {},
    optional={
        **{key: st.sampled_from(STRING_VALUES) for key in _FREE_STRINGS},
        "aws:TagKeys": st.lists(st.sampled_from(STRING_VALUES), max_size=3),
        NUMBER_KEY: st.sampled_from(NUMBERS),
        "aws:CurrentTime": st.sampled_from(DATES),
        "aws:EpochTime": st.sampled_from(DATES),
        IP_KEY: st.sampled_from(ADDRESSES),
    },
)
"""Request contexts; keys derived from the principal are never given (AWS sets them)."""
_IDENTITIES = st.lists(IDENTITY_POLICIES, max_size=2)
_SOME = st.lists(IDENTITY_POLICIES, min_size=1, max_size=2)
_SCPS = st.one_of(st.just([]), st.just([]), _SOME)
_SESSIONS = st.one_of(st.just([]), st.just([]), _SOME)  # inline and managed session policies
_BOUNDARIES = st.one_of(st.none(), st.none(), IDENTITY_POLICIES)
_RCP_STATEMENTS = _statement(False).map(lambda s: {**s, "Principal": "*"})  # always "*"
_RCPS = st.one_of(st.just([]), st.just([]), st.lists(_policy(_RCP_STATEMENTS), max_size=2))
_ORGANIZATIONS = st.one_of(
    st.none(),
    st.none(),
    st.fixed_dictionaries(
        # a management account outside the pool: every account of the pool is a member
        {"management": st.sampled_from((*ACCOUNTS, "999999999999")), "scps": _SOME}
    ),
)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """A request and every policy ``evaluate`` takes, as keyword arguments (``scps`` unless
    an ``organization`` attaches them)."""
    resource = draw(st.sampled_from(RESOURCES))
    kind = "generic"
    if ":kms:" in resource:
        kind = "kms-key"
    elif ":role/" in resource:
        kind = "role-trust"
    return {
        "principal": draw(principals()),
        "action": draw(st.sampled_from(ACTIONS)),
        "resource": resource,
        "context": draw(CONTEXTS),
        "identity": draw(_IDENTITIES),
        "resource_policy": draw(RESOURCE_POLICIES),
        "resource_account": draw(st.sampled_from(ACCOUNTS)),
        "resource_kind": kind,
        "boundary": draw(_BOUNDARIES),
        "scps": draw(_SCPS),
        "session": draw(_SESSIONS),
        "rcps": draw(_RCPS),
        "organization": draw(_ORGANIZATIONS),  # then its SCPs, by the caller's account
    }
