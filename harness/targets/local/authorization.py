"""From one identified API call to the authorization requests AWS makes for it.

A call may need several decisions: the action itself, ``iam:PassRole`` when it hands a role
to a service, and the KMS calls S3 makes on the caller's behalf (``kms:GenerateDataKey`` for
an SSE-KMS put, by header or by the bucket's default; ``kms:Decrypt`` for a get). Each check
carries the resource policy that applies, read from moto's state.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from harness.gateway.operations import OperationCall
from harness.policy.evaluate import ResourceKind
from harness.targets.local import moto_state

PARTITION = "aws"
_KMS_SSE = ("aws:kms", "aws:kms:dsse")
_SSE_PUTS = frozenset({"PutObject", "CreateMultipartUpload", "CopyObject"})
_SSE_GETS = frozenset({"GetObject"})


@dataclass(frozen=True)
class Check:
    """One authorization request, with the resource-side policy that applies to it."""

    action: str
    resource: str
    resource_account: str
    context: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    resource_policy: str | None = None
    resource_kind: ResourceKind = "generic"
    on_behalf_of: str | None = None  # the service that makes this call for the caller


@functools.cache
def _table() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data/authorization.yaml").read_text()
    return yaml.safe_load(text)


def _dig(params: Mapping[str, Any], path: str) -> Any:
    value: Any = params
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def actions_of(call: OperationCall) -> list[str]:
    """The IAM actions ``call`` needs (most calls: exactly one)."""
    table = _table()
    named = table["actions"].get(call.signing_name, {}).get(call.operation)
    actions = list(named) if named else [f"{call.signing_name}:{call.operation}"]
    if call.params.get("VersionId"):
        actions = [table["version_actions"].get(a, a) for a in actions]
    return actions


def resource_of(call: OperationCall, account: str) -> str:
    """The resource ARN of ``call``, from the first template whose parameters it carries."""
    if call.signing_name == "kms":
        return _kms_resource(call, account)
    values = {"partition": PARTITION, "region": call.region, "account": account}
    for template in _table()["resources"].get(call.signing_name, []):
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name]
        params = [n for n in names if n not in values]
        if all(isinstance(call.params.get(n), str) and call.params[n] for n in params):
            if len(params) == 1 and template == "{" + params[0] + "}":
                return call.params[params[0]]
            if len(params) == 1 and call.params[params[0]].startswith("arn:"):
                return call.params[params[0]]
            return template.format(**values, **{n: call.params[n] for n in params})
    return "*"


def _kms_resource(call: OperationCall, account: str) -> str:
    reference = call.params.get("KeyId") or call.params.get("TargetKeyId")
    if not isinstance(reference, str):
        return "*"
    key = moto_state.kms_key(reference, call.region, account)
    return key.arn if key is not None else "*"


def _base_context(call: OperationCall, account: str, secure: bool) -> dict[str, str]:
    context = {
        "aws:SecureTransport": "true" if secure else "false",
        "aws:RequestedRegion": call.region,
    }
    if call.signing_name == "kms":
        context["kms:CallerAccount"] = account
    for parameter, key in _table()["condition_parameters"].get(call.signing_name, {}).items():
        value = call.params.get(parameter)
        if isinstance(value, str):
            context[key] = value
    return context


def _with_resource_policy(check: Check, caller_account: str, region: str) -> Check:
    """Attach the bucket policy or key policy that governs ``check.resource``."""
    resource = check.resource
    if resource.startswith("arn:aws:s3:::"):
        bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        owner = moto_state.bucket_account(bucket) or caller_account
        return _replace(check, moto_state.bucket_policy(bucket), owner, "generic")
    if resource.startswith("arn:aws:kms:") and ":key/" in resource:
        key = moto_state.kms_key(resource, region, caller_account)
        if key is not None:
            return _replace(check, key.policy, key.account_id, "kms-key")
    return check


def _replace(check: Check, policy: str | None, account: str, kind: ResourceKind) -> Check:
    return Check(
        action=check.action,
        resource=check.resource,
        resource_account=account,
        context=check.context,
        resource_policy=policy,
        resource_kind=kind,
        on_behalf_of=check.on_behalf_of,
    )


def _account_of(resource: str, default: str) -> str:
    parts = resource.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4].isdigit() else default


def checks_for(call: OperationCall, caller_account: str, secure: bool) -> list[Check]:
    """Every decision ``call`` needs, the call's own actions first."""
    context = _base_context(call, caller_account, secure)
    resource = resource_of(call, caller_account)
    owner = _account_of(resource, caller_account)
    checks = [
        _with_resource_policy(Check(action, resource, owner, context), caller_account, call.region)
        for action in actions_of(call)
    ]
    checks += _pass_role(call, caller_account, context)
    checks += _s3_kms(call, caller_account, secure)
    return checks


def _pass_role(call: OperationCall, account: str, context: Mapping[str, str]) -> list[Check]:
    rule = _table()["pass_role"].get(call.signing_name, {}).get(call.operation)
    role_arn = _dig(call.params, rule["parameter"]) if rule else None
    if not isinstance(role_arn, str):
        return []
    passed = {**context, "iam:PassedToService": rule["service"]}
    return [Check("iam:PassRole", role_arn, _account_of(role_arn, account), passed)]


def _s3_kms(call: OperationCall, account: str, secure: bool) -> list[Check]:
    """The KMS calls S3 makes for the caller to encrypt or decrypt an object."""
    if call.signing_name != "s3" or not isinstance(call.params.get("Bucket"), str):
        return []
    bucket = call.params["Bucket"]
    owner = moto_state.bucket_account(bucket) or account
    if call.operation in _SSE_PUTS:
        algorithm = call.params.get("ServerSideEncryption")
        if algorithm in _KMS_SSE:
            # Without a key id S3 uses the AWS managed key, whose policy admits the account.
            reference = call.params.get("SSEKMSKeyId")
        elif algorithm is None:
            reference = moto_state.bucket_default_kms_key(bucket)
        else:
            reference = None
        action = "kms:GenerateDataKey"
    elif call.operation in _SSE_GETS and isinstance(call.params.get("Key"), str):
        reference = moto_state.object_kms_key(
            bucket, call.params["Key"], call.params.get("VersionId")
        )
        action = "kms:Decrypt"
    else:
        return []
    if reference is None:
        return []
    key = moto_state.kms_key(reference, call.region, owner)
    context = {
        "aws:SecureTransport": "true",
        "kms:ViaService": f"s3.{call.region}.amazonaws.com",
        "kms:CallerAccount": account,
    }
    if key is None:
        # S3 fails the request when the key does not exist; no key policy can allow it.
        arn = (
            reference
            if reference.startswith("arn:")
            else f"arn:aws:kms:{call.region}:{owner}:{reference}"
        )
        return [Check(action, arn, _account_of(arn, owner), context, None, "kms-key", "s3")]
    return [Check(action, key.arn, key.account_id, context, key.policy, "kms-key", "s3")]
