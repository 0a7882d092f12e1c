"""What S3 Block Public Access calls "public": a bucket policy or an ACL.

S3 user guide, "Blocking public access to your Amazon S3 storage", section "The meaning of
public" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status):
an ACL is public when it grants anything to the AllUsers or AuthenticatedUsers group; a
policy is public unless each of its Allow statements is given to fixed principals or fixed by
a condition on one of the keys listed there (a fixed value has no wildcard and no policy
variable).

Doubtful, and modelled as written here: a condition fixes only through a positive matching
operator (``StringEquals``, ``StringLike``, ``ArnEquals``, ``ArnLike``, ``IpAddress``, with
``ForAnyValue`` or without qualifier, never ``IfExists``), since a negated operator or an
absent key lets everyone else in; ``aws:SourceIp`` of ``0.0.0.0/0`` or ``::/0`` fixes nothing;
an Allow with ``NotPrincipal`` is public; the guide's "bad actions" qualifier is not modelled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from harness.policy.errors import PolicyError

# Keys whose fixed value limits a statement to known callers ("The meaning of public").
_LIMITING_KEYS = frozenset(
    key.lower()
    for key in (
        "aws:SourceArn",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceOwner",
        "aws:SourceAccount",
        "aws:SourceIp",
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:userid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    )
)
_FIXING_OPERATORS = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress"}
)
_OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})


def public_statements(document: str | Mapping[str, Any]) -> tuple[str, ...]:
    """The statements (Sid, else index) that make a bucket policy public; empty when none."""
    loaded = json.loads(document) if isinstance(document, str) else document
    statements = loaded.get("Statement", []) if isinstance(loaded, Mapping) else None
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyError("a bucket policy needs a Statement list")
    return tuple(
        str(statement.get("Sid") or index)
        for index, statement in enumerate(statements)
        if isinstance(statement, Mapping) and _is_public(statement)
    )


def is_public_policy(document: str | Mapping[str, Any]) -> bool:
    return bool(public_statements(document))


def is_public_acl(canned: str | None, grantees: Iterable[str]) -> bool:
    """A canned ACL (``x-amz-acl``) or grantees (``x-amz-grant-*`` header values, or the
    URIs of an access control policy's grantees) that give the public groups access."""
    if canned in _PUBLIC_CANNED_ACLS:
        return True
    return any(group in grantee for grantee in grantees for group in PUBLIC_GROUPS)


def _is_public(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "NotPrincipal" in statement:
        return True
    return _open_principal(statement.get("Principal")) and not _fixed_by_condition(
        statement.get("Condition")
    )


def _open_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    values = [v for given in principal.values() for v in _listed(given)]
    return any(_variable(value) for value in values)


def _fixed_by_condition(condition: Any) -> bool:
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        qualifier, _, base = str(operator).rpartition(":")
        if qualifier == "ForAllValues" or base.lower() not in _FIXING_OPERATORS:
            continue
        for key, given in (tests or {}).items():
            values = _listed(given)
            if key.lower() in _LIMITING_KEYS and values and not any(_open(v) for v in values):
                return True
    return False


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _variable(value: str) -> bool:
    """Not a fixed value: a wildcard or a policy variable."""
    return "*" in value or "?" in value or "${" in value


def _open(value: str) -> bool:
    return _variable(value) or value in _OPEN_CIDRS
