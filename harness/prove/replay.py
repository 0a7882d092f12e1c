"""Replay a counterexample of ``harness prove`` as a live request: the generated pytest cases
call :func:`replay`, so a proof's finding becomes a check against a deployed target.

A case names a concrete request (principal, action, resource, context) with placeholders
(``${A}``, ``${KeyArn}``, ``${Bucket}``, ``${Prefix}``...) bound to the deployment it runs
against. It passes when the target decides as the property claims (a safety property: the
request is refused; a liveness cell: it is allowed) and fails otherwise: a counterexample
*confirmed* live. A request the target refuses only at the KMS call S3 makes on the caller's
behalf (an object under the key, for a principal the key refuses) confirms a counterexample
too, where the target's decision log shows its own action allowed: the properties are of the
policy deciding that action. Where the proof assumed an identity policy allowing everything, such a
policy is attached to the principal's role for the request (and removed). Where the proof
ran on files that differ from what is deployed (a fault fixture), the proven key, bucket and
trust policies are put in place for the request and the deployed ones restored after.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.allowlist import DEFAULT_OUTSIDER
from harness.deploy import Deployment
from harness.deploy.deploy import deployer_role_arn
from harness.deploy.principals import Missing, PrincipalSessions, ServiceSessions, Unavailable
from harness.evidence.explain import HasDecisionLog
from harness.evidence.model import DecisionEvidence
from harness.policy import Principal, Request, evaluate
from harness.probes.calls import Attempt, attempt
from harness.probes.prober import admin_like
from harness.targets import OUTSIDER, Target

_PLACEHOLDER = re.compile(r"\$\{(A|B|C|Outsider|KeyArn|Bucket|Prefix|Region)\}")
EXTRA_ACCOUNTS = "HARNESS_LOCAL_EXTRA_ACCOUNTS"
"""The local target's setting that adds accounts (``harness.targets.local.target``, not
imported here: it brings moto, which ``harness prove`` does without)."""
_ACCOUNT_LETTERS = {"A": "shared-services", "B": "training", "C": "production"}


@dataclass(frozen=True)
class Case:
    """One request of a counterexample, and what the property claims of it."""

    id: str
    property: str
    promise: int
    expect: str  # "denied" (a safety property) or "allowed" (a liveness cell)
    principal: str  # an IAM/STS ARN, or a service principal name
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    admin_like: bool = False  # the proof gave the principal an identity allowing everything
    decided_by: tuple[str, ...] = ()  # the statements the proof found deciding it


@dataclass(frozen=True)
class Fault:
    """Proven policies that differ from the deployment's (placeholders unbound)."""

    key_policy: Mapping[str, Any] | None = None
    bucket_policy: Mapping[str, Any] | None = None
    trusts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # role ARN -> trust


def bindings(deployment: Deployment, target: Target) -> dict[str, str]:
    accounts = deployment.settings.accounts
    values = {letter: accounts[role] for letter, role in _ACCOUNT_LETTERS.items()}
    return {
        **values,
        "Outsider": accounts.get(OUTSIDER, DEFAULT_OUTSIDER),
        "KeyArn": deployment.key_arn,
        "Bucket": deployment.bucket,
        "Prefix": deployment.settings.prefix,
        "Region": deployment.settings.region,
    }


def bind(value: Any, values: Mapping[str, str]) -> Any:
    """``value`` with every placeholder replaced by its value."""
    text = json.dumps(value)
    return json.loads(_PLACEHOLDER.sub(lambda m: values[m.group(1)], text))


def _account_role(target: Target, account_id: str) -> str:
    return next(role for role, found in target.accounts.items() if found == account_id)


@contextmanager
def _swapped(get: Callable[[], Any], put: Callable[[Any], None], new: Any) -> Iterator[None]:
    old = get()
    put(new)
    try:
        yield
    finally:
        put(old)


def _restorable_key_policy(policy: Mapping[str, Any], deployer: str, key_arn: str) -> None:
    """Skip rather than put a key policy in place that would lock the harness out of it."""
    request = Request(Principal.from_arn(deployer), "kms:PutKeyPolicy", key_arn)
    admin = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    if not evaluate(request, [admin], policy, resource_kind="kms-key").allowed:
        pytest.skip("the proven key policy would lock the deployer out of the key")


@contextmanager
def in_place(fault: Fault, deployment: Deployment, target: Target) -> Iterator[None]:
    """The fault's policies on the deployment for the block; the deployed ones after."""
    shared = target.session("shared-services")
    with ExitStack() as stack:
        if fault.key_policy is not None:
            kms = target.client("kms", shared)
            key = deployment.key_arn
            deployer = deployment.deployer_arns["shared-services"]
            _restorable_key_policy(fault.key_policy, deployer, key)
            stack.enter_context(
                _swapped(
                    lambda: kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"],
                    lambda text: kms.put_key_policy(KeyId=key, PolicyName="default", Policy=text),
                    json.dumps(fault.key_policy),
                )
            )
        if fault.bucket_policy is not None:
            s3 = target.client("s3", shared)
            bucket = deployment.bucket
            stack.enter_context(_public_access_lifted(s3, bucket))
            stack.enter_context(
                _swapped(
                    lambda: s3.get_bucket_policy(Bucket=bucket)["Policy"],
                    lambda text: s3.put_bucket_policy(Bucket=bucket, Policy=text),
                    json.dumps(fault.bucket_policy),
                )
            )
        for role_arn, trust in fault.trusts.items():
            stack.enter_context(_trust_in_place(target, role_arn, trust))
        time.sleep(target.policy_propagation_seconds)
        yield
    time.sleep(target.policy_propagation_seconds)


@contextmanager
def _public_access_lifted(s3: BaseClient, bucket: str) -> Iterator[None]:
    """The bucket without its Block Public Access settings for the block, as when the proven
    policy was deployed: the proof judges policies, and BlockPublicPolicy would refuse a public
    one before the request could show what it grants (RestrictPublicBuckets would hide it)."""
    try:
        old = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchPublicAccessBlockConfiguration":
            raise
        old = None
    if old is not None:
        s3.delete_public_access_block(Bucket=bucket)
    try:
        yield
    finally:
        if old is not None:
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=old)


@contextmanager
def _trust_in_place(target: Target, role_arn: str, trust: Mapping[str, Any]) -> Iterator[None]:
    """The role trusts as proven for the block; a role the deployment lacks is made for it."""
    account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
    iam = target.client("iam", target.session(_account_role(target, account)))
    try:
        old = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchEntity":
            raise
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        try:
            yield
        finally:
            iam.delete_role(RoleName=name)
        return
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    try:
        yield
    finally:
        document = old if isinstance(old, str) else json.dumps(old)
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=document)


@contextmanager
def _stand_in(
    target: Target, deployment: Deployment, account: str, role: str | None
) -> Iterator[PrincipalSessions]:
    """Sessions that reach an account the target has but the deployment does not use (one
    it was given for a replay): the principal's role made there for the block, trusting the
    account's deployer, then deleted."""
    deployer = deployer_role_arn(target, account)
    sessions = PrincipalSessions(target, {**deployment.deployer_arns, account: deployer})
    if role is None or ":role/" not in role:
        yield sessions
        return
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": deployer}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = target.client("iam", target.session(account))
    name = role.rsplit("/", 1)[-1]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    try:
        yield sessions
    finally:
        iam.delete_role(RoleName=name)


def _role_of(principal: str) -> str | None:
    """The role a session ARN is of (the root for a root ARN); None for other principals."""
    if principal.endswith(":root"):
        return principal
    found = re.fullmatch(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/.+", principal)
    return f"arn:aws:iam::{found.group(1)}:role/{found.group(2)}" if found else None


def _via(case: Case) -> str | None:
    """The service that makes the request on the principal's behalf, if the context says
    one does (``kms:ViaService``; a grant for an AWS resource, as SageMaker asks for one)."""
    via = _context(case, "kms:ViaService")
    if via:
        return f"{str(via).split('.', 1)[0]}.amazonaws.com"
    grant = str(_context(case, "kms:GrantIsForAWSResource")).lower()
    if case.action == "kms:CreateGrant" and grant == "true":
        return "sagemaker.amazonaws.com"
    return None


def _context(case: Case, key: str) -> Any:
    lowered = {k.lower(): v for k, v in case.context.items()}
    return lowered.get(key.lower())


def _invoke(case: Case, ciphertext: Callable[[], bytes]) -> Callable[[BaseClient], Any] | None:
    """The API call that makes the case's request, or None if the replay knows none."""
    service, operation = case.action.split(":", 1)
    bucket, _, key = case.resource.removeprefix("arn:aws:s3:::").partition("/")
    resource = case.resource
    kms_calls: dict[str, Callable[[BaseClient], Any]] = {
        "Encrypt": lambda c: c.encrypt(KeyId=resource, Plaintext=b"proof"),
        "Decrypt": lambda c: c.decrypt(KeyId=resource, CiphertextBlob=ciphertext()),
        "ReEncryptFrom": lambda c: c.re_encrypt(
            CiphertextBlob=ciphertext(), SourceKeyId=resource, DestinationKeyId=resource
        ),
        "GenerateDataKey": lambda c: c.generate_data_key(KeyId=resource, KeySpec="AES_256"),
        "GenerateDataKeyWithoutPlaintext": lambda c: c.generate_data_key_without_plaintext(
            KeyId=resource, KeySpec="AES_256"
        ),
        "CreateGrant": lambda c: c.create_grant(
            KeyId=resource,
            GranteePrincipal=f"arn:aws:iam::{resource.split(':')[4]}:root",
            Operations=["Decrypt"],
        ),
    }
    kms_calls["ReEncryptTo"] = kms_calls["ReEncryptFrom"]
    encryption = {
        name: value
        for name, value in (
            ("ServerSideEncryption", _context(case, "s3:x-amz-server-side-encryption")),
            ("SSEKMSKeyId", _context(case, "s3:x-amz-server-side-encryption-aws-kms-key-id")),
        )
        if value is not None
    }
    s3_calls: dict[str, Callable[[BaseClient], Any]] = {
        "PutObject": lambda c: c.put_object(Bucket=bucket, Key=key, Body=b"proof", **encryption),
        "GetObject": lambda c: c.get_object(Bucket=bucket, Key=key)["Body"].read(),
        "ListBucket": lambda c: c.list_objects_v2(Bucket=bucket),
        "GetBucketPolicy": lambda c: c.get_bucket_policy(Bucket=bucket),
    }
    sts_calls: dict[str, Callable[[BaseClient], Any]] = {
        "AssumeRole": lambda c: c.assume_role(RoleArn=resource, RoleSessionName="proof"),
    }
    return {"kms": kms_calls, "s3": s3_calls, "sts": sts_calls}.get(service, {}).get(operation)


def _outcome(call: Callable[[], Any]) -> Attempt:
    """:func:`attempt`, where a missing object counts as allowed (S3 refuses before it
    looks when the request is not authorized)."""
    try:
        return attempt(call)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return Attempt(True, "", None)
        raise


def make(
    case: Case, target: Target, principals: PrincipalSessions, ciphertext: Callable[[], bytes]
) -> Attempt:
    """Make the case's request as its principal (skipped where the target cannot)."""
    service = case.action.split(":", 1)[0]
    if case.principal.endswith(".amazonaws.com"):
        if case.action != "sts:AssumeRole" or not isinstance(target, ServiceSessions):
            pytest.skip(f"target {target.name} cannot make {case.action} as {case.principal}")
        try:
            target.session_as_service(case.resource, case.principal)
        except PermissionError as refused:
            return Attempt(False, str(refused), None)
        return Attempt(True, "", None)
    role = _role_of(case.principal)
    invoke = _invoke(case, ciphertext)
    if role is None or invoke is None:
        pytest.skip(f"no replay for {case.action} as {case.principal}")
    plain_http = str(_context(case, "aws:SecureTransport")).lower() == "false"
    try:
        client = principals.client(role, service, via=_via(case), plain_http=plain_http)
    except (Unavailable, Missing) as unable:
        pytest.skip(f"cannot act as {case.principal}: {unable}")
    return _outcome(lambda: invoke(client))


def _own_decision(case: Case, target: Target, outcome: Attempt) -> DecisionEvidence | None:
    """The target's logged decision of the case's own action for the request (not of a call
    an AWS service made on the caller's behalf); None where the target keeps no log."""
    if not isinstance(target, HasDecisionLog) or outcome.request_id is None:
        return None
    entries = target.decision_log.for_request(outcome.request_id)
    own = [e for e in entries if str(e["action"]).lower() == case.action.lower()]
    return DecisionEvidence.from_log(own[0]) if own else None


def replay(
    case: Case,
    fault: Fault,
    deployment: Deployment,
    target: Target,
    principals: PrincipalSessions,
) -> None:
    """The generated cases' body: see the module docstring."""
    values = bindings(deployment, target)
    bound = bind(_bindable(case), values)
    case = Case(**{**case.__dict__, **bound, "decided_by": tuple(bound["decided_by"])})
    fault = Fault(**bind(fault.__dict__, values))
    pipeline_role = deployment.outputs["shared-services"]["PipelineRoleArn"]
    blob = principals.client(pipeline_role, "kms").encrypt(
        KeyId=deployment.key_arn, Plaintext=b"proof"
    )["CiphertextBlob"]
    role = _role_of(case.principal)
    account = case.principal.split(":")[4] if case.principal.startswith("arn:") else None
    if account is not None and account not in target.accounts.values():
        pytest.skip(
            f"the account {account} of {case.principal} is not one of the target's "
            f"(on local, {EXTRA_ACCOUNTS}={account} adds it)"
        )
    with ExitStack() as stack:
        stack.enter_context(in_place(fault, deployment, target))
        if account is not None and account not in deployment.settings.accounts.values():
            principals = stack.enter_context(_stand_in(target, deployment, account, role))
        if case.admin_like and role is not None and ":role/" in role:
            stack.enter_context(admin_like(target, role))
        outcome = make(case, target, principals, lambda: bytes(blob))
    request = f"{case.action} on {case.resource} as {case.principal}"
    if case.expect == "denied":
        decided_by = ", ".join(case.decided_by) or "no resource statement"
        assert not outcome.allowed, (
            f"confirmed: the proof's counterexample to {case.property} is allowed live: "
            f"{request}; decided by {decided_by}"
        )
        own = _own_decision(case, target, outcome)
        assert own is None or not own.allowed, (
            f"confirmed: the proof's counterexample to {case.property} is allowed live: "
            f"{request}; decided by {decided_by} (the target allows {case.action} itself, "
            f"{own.describe()}; only a call made on the caller's behalf refused it: "
            f"{outcome.detail})"
        )
    else:
        assert outcome.allowed, (
            f"confirmed: {case.property} cannot run live: {request} refused ({outcome.detail})"
        )


def _bindable(case: Case) -> dict[str, Any]:
    names = ("principal", "action", "resource", "context", "decided_by")
    return {name: getattr(case, name) for name in names}
