"""Promise 2: only the allow-list's roles can use the key, directly or through S3.

Every allow-list principal and every canary makes each KMS call on the key itself and each
object call through S3 (which makes the KMS call for it); each outcome must be exactly what
``policies/access/allowlist.yaml`` says. Then the access matrix computed from the live
policies (read back through the APIs) must equal the allow-list too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.client import BaseClient

from harness.access import ALLOWLIST, DEFAULT_ACCOUNTS, format_table
from harness.deploy import Deployment
from harness.deploy.principals import PrincipalSessions
from harness.policy import Policy
from harness.policy.access_matrix import (
    Allowlist,
    Bucket,
    Expected,
    Key,
    Role,
    compute_matrix,
    diff,
    load_allowlist,
    subjects_from_allowlist,
)
from harness.report import Probe, RunRecord
from harness.targets import ACCOUNT_ROLES, Capability, Target
from tests.integration.evidence import as_principal, attempt, deciding_statement, probe_key

pytestmark = pytest.mark.promise(2)

# Names only (the accounts bound here are placeholders): the real binding is the fixture's.
PRINCIPAL_NAMES = [p.name for p in load_allowlist(ALLOWLIST, DEFAULT_ACCOUNTS).principals]


@dataclass(frozen=True)
class KeyCall:
    """A direct KMS operation and the allow-list actions it needs (all of them)."""

    actions: tuple[str, ...]
    call: Callable[[BaseClient, str, bytes], Any]


KEY_CALLS: dict[str, KeyCall] = {
    "Encrypt": KeyCall(
        ("kms:Encrypt",), lambda kms, key, _: kms.encrypt(KeyId=key, Plaintext=b"x")
    ),
    "Decrypt": KeyCall(
        ("kms:Decrypt",), lambda kms, key, blob: kms.decrypt(KeyId=key, CiphertextBlob=blob)
    ),
    "ReEncrypt": KeyCall(
        ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
        lambda kms, key, blob: kms.re_encrypt(
            CiphertextBlob=blob, SourceKeyId=key, DestinationKeyId=key
        ),
    ),
    "GenerateDataKey": KeyCall(
        ("kms:GenerateDataKey",),
        lambda kms, key, _: kms.generate_data_key(KeyId=key, KeySpec="AES_256"),
    ),
    "GenerateDataKeyWithoutPlaintext": KeyCall(
        ("kms:GenerateDataKeyWithoutPlaintext",),
        lambda kms, key, _: kms.generate_data_key_without_plaintext(KeyId=key, KeySpec="AES_256"),
    ),
    # A grant the principal asks for itself: kms:GrantIsForAWSResource is false, and the key
    # policy grants CreateGrant only for AWS resources (SageMaker's own use), so this is
    # refused for everyone; the matrix test below proves the SageMaker roles' grant.
    "CreateGrant": KeyCall(
        (),
        lambda kms, key, _: kms.create_grant(
            KeyId=key,
            GranteePrincipal="arn:aws:iam::111111111111:root",
            Operations=["Decrypt"],
        ),
    ),
}
OBJECT_CALLS = ("s3:PutObject", "s3:GetObject")


def _expected(allowlist: Allowlist, name: str) -> Expected:
    return next(p for p in allowlist.principals if p.name == name)


def _key_call_expected(expected: Expected, call: KeyCall) -> bool:
    return bool(call.actions) and all(action in expected.key for action in call.actions)


@pytest.fixture(scope="session")
def ciphertext(deployment: Deployment, principals: PrincipalSessions) -> bytes:
    """A ciphertext under the key, made by the pipeline role (which may encrypt)."""
    pipeline_role = deployment.outputs["shared-services"]["PipelineRoleArn"]
    kms = principals.client(pipeline_role, "kms")
    return bytes(kms.encrypt(KeyId=deployment.key_arn, Plaintext=b"harness")["CiphertextBlob"])


@pytest.fixture(scope="session")
def seeded_objects(
    deployment: Deployment, allowlist: Allowlist, principals: PrincipalSessions
) -> dict[str, str]:
    """Each representative object of the allow-list (at its probe key), written by a
    principal allowed to; label -> object key."""
    keys = {label: probe_key(key) for label, key in allowlist.objects.items()}
    for label, key in keys.items():
        writer = next(
            p for p in allowlist.principals if "s3:PutObject" in p.bucket.get(label, frozenset())
        )
        principals.client(writer.arn, "s3").put_object(
            Bucket=deployment.bucket,
            Key=key,
            Body=f"harness {label}".encode(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=deployment.key_arn,
        )
    return keys


def _report(
    record: RunRecord,
    target: Target,
    expected: Expected,
    what: str,
    action: str,
    allowed: bool,
    detail: str,
    want: bool,
) -> str:
    """Record the probe; for a mismatch, say what is wrong, why and how to fix it."""
    record.probes.append(Probe(expected.name, what, "", want, allowed))
    if allowed == want:
        return ""
    got = "allowed" if allowed else f"denied ({detail})"
    verb = "allows" if want else "denies"
    fix = (
        "grant it in the key policy (KeyUse... statements) or the role's policy"
        if want
        else "remove the statement that grants it; only the allow-list's roles may use the key"
    )
    return (
        f"{expected.name} ({expected.arn}): {what} was {got}, the allow-list {verb} it. "
        f"Deciding policy: {deciding_statement(target, expected.arn, action)}. Fix: {fix}"
    )


@pytest.mark.requires(Capability.ENFORCES_KEY_POLICY, Capability.ENFORCES_IDENTITY_POLICY)
@pytest.mark.parametrize("operation", list(KEY_CALLS))
@pytest.mark.parametrize("name", PRINCIPAL_NAMES)
def test_direct_key_use(
    name: str,
    operation: str,
    deployment: Deployment,
    allowlist: Allowlist,
    principals: PrincipalSessions,
    ciphertext: bytes,
    harness_target: Target,
    harness_record: RunRecord,
) -> None:
    expected = _expected(allowlist, name)
    kms = as_principal(principals, expected.arn).client("kms")
    call = KEY_CALLS[operation]
    outcome = attempt(lambda: call.call(kms, deployment.key_arn, ciphertext))
    want = _key_call_expected(expected, call)
    action = (call.actions or ("kms:CreateGrant",))[0]
    message = _report(
        harness_record,
        harness_target,
        expected,
        f"kms:{operation}",
        action,
        outcome.allowed,
        outcome.detail,
        want,
    )
    assert outcome.allowed == want, message


@pytest.mark.requires(Capability.ENFORCES_KEY_POLICY, Capability.ENFORCES_BUCKET_POLICY)
@pytest.mark.parametrize("action", OBJECT_CALLS)
@pytest.mark.parametrize("name", PRINCIPAL_NAMES)
def test_key_use_through_s3(
    name: str,
    action: str,
    deployment: Deployment,
    allowlist: Allowlist,
    principals: PrincipalSessions,
    seeded_objects: dict[str, str],
    harness_target: Target,
    harness_record: RunRecord,
) -> None:
    """Each representative object: a put under the key, a get (S3 decrypts with the key)."""
    expected = _expected(allowlist, name)
    s3 = as_principal(principals, expected.arn).client("s3")
    problems = []
    for label, key in seeded_objects.items():
        if action == "s3:PutObject":
            outcome = attempt(
                lambda key=key: s3.put_object(
                    Bucket=deployment.bucket,
                    Key=key,
                    Body=b"harness probe",
                    ServerSideEncryption="aws:kms",
                    SSEKMSKeyId=deployment.key_arn,
                )
            )
        else:
            outcome = attempt(
                lambda key=key: s3.get_object(Bucket=deployment.bucket, Key=key)["Body"].read()
            )
        want = action in expected.bucket.get(label, frozenset())
        message = _report(
            harness_record,
            harness_target,
            expected,
            f"{action} {label}",
            action,
            outcome.allowed,
            outcome.detail,
            want,
        )
        if outcome.allowed != want:
            problems.append(f"{message} (object {key})")
    assert not problems, "\n".join(problems)


def _live_roles(target: Target, prefix: str) -> tuple[list[Role], dict[str, list[Policy]]]:
    """Every role of the run in the three accounts: trust policy and identity policies."""
    roles, identities = [], {}
    for account in ACCOUNT_ROLES:
        iam = target.client("iam", target.session(account))
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                name = role["RoleName"]
                if not name.startswith(f"{prefix}-"):
                    continue
                arn = role["Arn"]
                where = f"role {name} in {account}"
                trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
                roles.append(Role(arn, Policy.parse(trust, name=f"trust policy of {where}")))
                policies = [
                    Policy.parse(
                        iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"],
                        name=f"policy {policy} of {where}",
                    )
                    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
                ]
                for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                    managed = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
                    document = iam.get_policy_version(
                        PolicyArn=attached["PolicyArn"], VersionId=managed["DefaultVersionId"]
                    )["PolicyVersion"]["Document"]
                    policies.append(
                        Policy.parse(document, name=f"{attached['PolicyName']} of {where}")
                    )
                identities[arn] = policies
    return roles, identities


# The engine decides every cell from the deployed policies, so the target need not enforce
# them, only hold them as written.
@pytest.mark.requires(Capability.APPLIES_TEMPLATE_SETTINGS)
def test_live_access_matrix_equals_allowlist(
    deployment: Deployment,
    allowlist: Allowlist,
    harness_target: Target,
    harness_record: RunRecord,
) -> None:
    """The matrix from the deployed policies (GetKeyPolicy, GetBucketPolicy, GetRole and role
    policies), decided by the same engine as ``harness access-matrix``."""
    a = harness_target.session("shared-services")
    key_policy = harness_target.client("kms", a).get_key_policy(
        KeyId=deployment.key_arn, PolicyName="default"
    )["Policy"]
    bucket_policy = harness_target.client("s3", a).get_bucket_policy(Bucket=deployment.bucket)[
        "Policy"
    ]
    roles, identities = _live_roles(harness_target, deployment.settings.prefix)
    matrix = compute_matrix(
        subjects_from_allowlist(allowlist, identities),
        Key(deployment.key_arn, Policy.parse(json.loads(key_policy), name="live key policy")),
        Bucket(
            deployment.bucket,
            deployment.settings.accounts["shared-services"],
            Policy.parse(json.loads(bucket_policy), name="live bucket policy"),
        ),
        roles,
        allowlist,
        deployment.settings.region,
    )
    findings = diff(matrix, allowlist)
    harness_record.matrix_cells = [
        {
            "subject": c.subject,
            "principal": c.principal_arn,
            "category": c.category,
            "action": c.action,
            "target": c.target,
            "allowed": c.allowed,
            "reason": c.reason,
        }
        for c in matrix.cells
    ]
    harness_record.matrix_table = format_table(matrix)
    harness_record.matrix_findings = [str(f) for f in findings]
    assert not findings, "the live policies disagree with the allow-list:\n" + "\n".join(
        map(str, findings)
    )
