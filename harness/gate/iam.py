"""IAM policy grammar and action data for the custom checks.

Action names, the resource types each action applies to, and those types' ARN formats come
from the IAM reference data that cfn-lint ships (``AdditionalSpecs/Policies.json``), so an
action is valid here exactly when AWS documents it, not when a hand-kept list says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource

from harness.gate.cfn_values import as_document, as_list, is_token, render

# The KMS operations that use key material, plus CreateGrant, which lets the grantee hand
# those operations to others. Everything else on a key is administration or description.
KMS_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateMac",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:Sign",
    "kms:Verify",
    "kms:VerifyMac",
    "kms:DeriveSharedSecret",
    "kms:CreateGrant",
)
# Actions that let a principal take the key away from its owners: rewrite its policy or
# destroy it. Only the key's own account (its administrators) may hold them.
KMS_ADMIN_ACTIONS = ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey")

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ARN_SERVICE = re.compile(r"^arn:[^:]*:([^:]+):")
_TOKEN = re.compile(r"\$\{[^}]*\}")


@cache
def _service_map() -> dict[str, Any]:
    return load_resource(AdditionalSpecs, "Policies.json")


def split_action(pattern: str) -> tuple[str, str]:
    """``("kms", "decrypt")`` from ``"kms:Decrypt"``; ``("*", "*")`` from ``"*"``."""
    if pattern == "*":
        return "*", "*"
    service, _, name = pattern.partition(":")
    return service.lower(), name.lower()


def matching_actions(pattern: str) -> list[str]:
    """The documented actions (``service:name``, lower case) a pattern with wildcards names."""
    service, name = split_action(pattern)
    services = _service_map()
    if service == "*" or service not in services:
        return []
    return [f"{service}:{a}" for a in services[service]["Actions"] if fnmatchcase(a, name)]


def is_valid_action(pattern: str) -> bool:
    """True when the pattern is ``*`` or names at least one documented action."""
    return pattern == "*" or bool(matching_actions(pattern))


def arn_services(action: str) -> set[str] | None:
    """ARN service fields of the resources an action applies to; None when any resource.

    ``sts:AssumeRole`` applies to ``arn:...:iam::...:role/...``, so this is not simply the
    action's own prefix.
    """
    service, name = split_action(action)
    entry = _service_map().get(service)
    if entry is None or name not in entry["Actions"]:
        return None
    types = entry["Actions"][name].get("Resources", [])
    formats = [f for t in types for f in entry["Resources"].get(t, {}).get("ARNFormats", [])]
    found = {m.group(1) for f in formats if (m := _ARN_SERVICE.match(f))}
    return found or None


def arn_service(arn: str) -> str | None:
    """The service field of a (possibly partly unresolved) ARN, when it is literal."""
    match = _ARN_SERVICE.match(_TOKEN.sub("${}", arn))  # ${AWS::Partition} has colons
    if match is None or "${" in match.group(1):
        return None
    return match.group(1)


def statements(document: Any) -> list[dict[str, Any]]:
    """Statements of a policy document given inline or as a JSON string."""
    parsed = as_document(document)
    if not isinstance(parsed, dict):
        return []
    return [s for s in as_list(parsed.get("Statement")) if isinstance(s, dict)]


def action_patterns(statement: dict[str, Any]) -> list[str]:
    """Every pattern in Action and NotAction, rendered."""
    return [render(a) for key in ("Action", "NotAction") for a in as_list(statement.get(key))]


def allows(statement: dict[str, Any], action: str) -> bool:
    """True when an Allow statement grants ``action`` (honouring NotAction)."""
    if statement.get("Effect") != "Allow":
        return False
    action = action.lower()
    if "NotAction" in statement:
        return not any(_matches(p, action) for p in as_list(statement["NotAction"]))
    return any(_matches(p, action) for p in as_list(statement.get("Action")))


def _matches(pattern: Any, action: str) -> bool:
    return fnmatchcase(action, render(pattern).lower())


def allows_any(statement: dict[str, Any], actions: tuple[str, ...]) -> list[str]:
    """The listed actions a statement allows."""
    return [a for a in actions if allows(statement, a)]


def principals(statement: dict[str, Any], kind: str) -> list[str]:
    """Rendered principals of one kind (``AWS``, ``Service``, ...); ``*`` counts for all."""
    principal = statement.get("Principal")
    if render(principal) == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return []
    return [render(p) for p in as_list(principal.get(kind))]


def is_account_principal(principal: str) -> bool:
    """True for principals that stand for a whole account (or every account).

    ``*``, a 12-digit id, an account root ARN, or a single Ref/GetAtt whose name says it
    is an account (``!Ref TrainingAccountId``).
    """
    if principal == "*" or _ACCOUNT_ID.match(principal) or principal.endswith(":root"):
        return True
    return is_token(principal) and "account" in principal.lower()


def is_role_principal(principal: str) -> bool:
    """True for a role ARN, or a GetAtt ``.Arn`` of a template resource (a role or user)."""
    return ":role/" in principal or (is_token(principal) and principal.endswith(".Arn}"))


def restricts_principal_arn(statement: dict[str, Any]) -> bool:
    """True when the Condition pins ``aws:PrincipalArn`` to exact role ARNs.

    That is how our key and trust policies name roles of other accounts through their
    account root (KMS and IAM reject principals that do not exist yet): the root alone
    would let every principal of that account in; the condition narrows it to the roles.
    """
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return False
    for operator, clauses in condition.items():
        if operator not in ("ArnEquals", "StringEquals", "ArnLike", "StringLike"):
            continue
        if not isinstance(clauses, dict):
            continue
        for key, values in clauses.items():
            if key.lower() != "aws:principalarn":
                continue
            arns = [render(v) for v in as_list(values)]
            if arns and all(_exact_role_arn(a) for a in arns):
                return True
    return False


def _exact_role_arn(arn: str) -> bool:
    return ":role/" in arn and "*" not in arn and "?" not in arn


def service_principals(statement: dict[str, Any]) -> set[str]:
    """Service principals of an Allow statement, lower-cased."""
    if statement.get("Effect") != "Allow":
        return set()
    return {p.lower() for p in principals(statement, "Service")}


def condition_keys(statement: dict[str, Any]) -> set[str]:
    """All condition keys a statement tests, lower-cased."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return set()
    return {
        k.lower() for clauses in condition.values() if isinstance(clauses, dict) for k in clauses
    }


def resources(statement: dict[str, Any]) -> list[str]:
    """Rendered Resource entries."""
    return [render(r) for r in as_list(statement.get("Resource"))]


_DOCUMENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::IAM::Role": ("AssumeRolePolicyDocument",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::RolePolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
}
_INLINE_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
# Resource types whose identity (permission) policies the IAM checks read, and all types that
# carry any policy document (identity or resource policy).
IDENTITY_POLICY_TYPES = (
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::User",
    "AWS::IAM::Group",
)
POLICY_TYPES = (
    *IDENTITY_POLICY_TYPES,
    "AWS::KMS::Key",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
)


def policy_statements(resource_type: str, properties: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every statement of every policy document a resource carries."""
    for name in _DOCUMENT_PROPERTIES.get(resource_type, ()):
        yield from statements(properties.get(name))
    yield from identity_statements(resource_type, properties)


def identity_statements(resource_type: str, properties: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Statements of the identity (permission) policies a resource defines."""
    if resource_type in _INLINE_POLICY_TYPES:
        for policy in as_list(properties.get("Policies")):
            if isinstance(policy, dict):
                yield from statements(policy.get("PolicyDocument"))
    elif resource_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
        yield from statements(properties.get("PolicyDocument"))
