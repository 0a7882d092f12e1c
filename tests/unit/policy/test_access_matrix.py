"""The access matrix against the committed allow-list, on hand-built project policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.allowlist import load_allowlist, static_bindings
from harness.policy import Policy, PolicyError, StatementRef
from harness.policy.access_matrix import (
    Bucket,
    Key,
    Role,
    compute_matrix,
    diff,
    subjects_from_allowlist,
)

ALLOWLIST = Path(__file__).parents[3] / "policies" / "access" / "allowlist.yaml"
A, B, C = "111111111111", "222222222222", "333333333333"
KEY_ARN = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = f"mlops-artifacts-{A}"
KEY_USE = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]


def role(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/mlops-{name}"


PIPELINE, B_ACTION, B_TRAINING = (
    role(A, "pipeline"),
    role(B, "b-pipeline-action"),
    role(B, "b-sagemaker-training"),
)
C_ACTION, C_DEPLOY, C_HOSTING = (
    role(C, "c-pipeline-action"),
    role(C, "c-deploy-function"),
    role(C, "c-sagemaker-hosting"),
)
PUBLISHER = role(A, "data-publisher")


def objects(prefix: str) -> str:
    return f"arn:aws:s3:::{BUCKET}/{prefix}"


def key_policy(*extra: dict[str, Any]) -> Policy:
    statements: list[dict[str, Any]] = [
        {
            "Sid": "KeyAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": [
                "kms:CreateAlias",
                "kms:Describe*",
                "kms:Enable*",
                "kms:List*",
                "kms:Put*",
                "kms:Update*",
                "kms:Revoke*",
                "kms:Disable*",
                "kms:Get*",
                "kms:Delete*",
                "kms:TagResource",
                "kms:UntagResource",
                "kms:ScheduleKeyDeletion",
                "kms:CancelKeyDeletion",
            ],
            "Resource": "*",
        },
        {
            "Sid": "KeyUse",
            "Effect": "Allow",
            "Principal": {"AWS": [PIPELINE, B_ACTION, B_TRAINING, C_ACTION]},
            "Action": KEY_USE,
            "Resource": "*",
        },
        {
            "Sid": "DecryptOnly",
            "Effect": "Allow",
            "Principal": {"AWS": [C_DEPLOY, C_HOSTING]},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
        },
        {
            "Sid": "GrantsForSageMaker",
            "Effect": "Allow",
            "Principal": {"AWS": [B_TRAINING, C_HOSTING]},
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        {
            "Sid": "PublisherThroughS3Only",
            "Effect": "Allow",
            "Principal": {"AWS": PUBLISHER},
            "Action": ["kms:GenerateDataKey*", "kms:Encrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
        },
        *extra,
    ]
    return Policy.parse(
        {"Version": "2012-10-17", "Statement": statements}, name=f"key policy {KEY_ARN}"
    )


def bucket_policy(*drop: str) -> Policy:
    grants = {
        "ArtifactsB": ([B_ACTION], ["s3:GetObject", "s3:PutObject"], "mlops/*"),
        "ArtifactsC": ([C_ACTION], ["s3:GetObject", "s3:PutObject"], "mlops/*"),
        "ArtifactsDeploy": ([C_DEPLOY], ["s3:GetObject"], "mlops/*"),
        "TrainingData": ([B_TRAINING], ["s3:GetObject"], "data/*"),
        "TrainingModels": ([B_TRAINING], ["s3:PutObject"], "models/*"),
        "HostingModels": ([C_HOSTING], ["s3:GetObject"], "models/*"),
    }
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", objects("*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOtherKeys",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects("*"),
            "Condition": {
                "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY_ARN}
            },
        },
    ]
    statements += [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": who},
            "Action": actions,
            "Resource": objects(prefix),
        }
        for sid, (who, actions, prefix) in grants.items()
        if sid not in drop
    ]
    return Policy.parse(
        {"Version": "2012-10-17", "Statement": statements}, name=f"bucket policy of {BUCKET}"
    )


def identity(
    name: str, s3: dict[str, list[str]], kms: list[str], assume: list[str] = ()
) -> list[Policy]:
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": actions, "Resource": objects(prefix)}
        for prefix, actions in s3.items()
    ]
    if kms:
        statements.append({"Effect": "Allow", "Action": kms, "Resource": KEY_ARN})
    if assume:
        statements.append({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": list(assume)})
    return [Policy.parse({"Version": "2012-10-17", "Statement": statements}, name=f"{name} policy")]


RW = ["s3:GetObject", "s3:PutObject"]
IDENTITIES = {
    PIPELINE: identity("pipeline", {"mlops/*": RW}, KEY_USE, [B_ACTION, C_ACTION]),
    B_ACTION: identity("b-action", {"mlops/*": RW}, KEY_USE),
    B_TRAINING: identity(
        "b-training",
        {"data/*": ["s3:GetObject"], "models/*": ["s3:PutObject"]},
        [*KEY_USE, "kms:CreateGrant"],
    ),
    C_ACTION: identity("c-action", {"mlops/*": RW}, KEY_USE),
    C_DEPLOY: identity("c-deploy", {"mlops/*": ["s3:GetObject"]}, ["kms:Decrypt"]),
    C_HOSTING: identity(
        "c-hosting", {"models/*": ["s3:GetObject"]}, ["kms:Decrypt", "kms:CreateGrant"]
    ),
    PUBLISHER: identity("publisher", {"data/*": ["s3:PutObject"]}, []),
}


def trust(principal: dict[str, Any], name: str) -> Policy:
    return Policy.parse(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        },
        name=f"trust policy of {name}",
    )


ROLES = [
    Role(B_ACTION, trust({"AWS": PIPELINE}, B_ACTION)),
    Role(C_ACTION, trust({"AWS": PIPELINE}, C_ACTION)),
    Role(B_TRAINING, trust({"Service": "sagemaker.amazonaws.com"}, B_TRAINING)),
    Role(C_HOSTING, trust({"Service": "sagemaker.amazonaws.com"}, C_HOSTING)),
    Role(C_DEPLOY, trust({"Service": "lambda.amazonaws.com"}, C_DEPLOY)),
]


@pytest.fixture(scope="module")
def allowlist() -> Any:
    return load_allowlist(ALLOWLIST, static_bindings({"A": A, "B": B, "C": C}), prefix="mlops")


def findings_for(allowlist: Any, key: Policy, bucket: Policy) -> list[Any]:
    subjects = subjects_from_allowlist(allowlist, IDENTITIES)
    matrix = compute_matrix(
        subjects, Key(KEY_ARN, key), Bucket(BUCKET, A, bucket), ROLES, allowlist
    )
    return diff(matrix, allowlist)


def test_policies_as_designed_match_the_allowlist(allowlist: Any) -> None:
    findings = findings_for(allowlist, key_policy(), bucket_policy())
    assert [str(f) for f in findings] == []


def test_key_use_granted_to_b_root_names_the_b_canaries(allowlist: Any) -> None:
    grant = {
        "Sid": "KeyUseForAccountB",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    findings = findings_for(allowlist, key_policy(grant), bucket_policy())
    subjects = {f.subject for f in findings}
    assert subjects == {"account B root", "admin-like role in B", "deployer of B"}
    assert all(f.actual and not f.expected for f in findings)
    assert all(
        StatementRef("key policy " + KEY_ARN, "key", "KeyUseForAccountB", "Allow") in f.statements
        for f in findings
    )
    assert "allowed but the allow-list denies it" in str(findings[0])


def test_admin_statement_with_create_star_leaks_create_grant(allowlist: Any) -> None:
    leaky = {
        "Sid": "AdminCreateStar",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
        "Action": "kms:Create*",
        "Resource": "*",
    }
    findings = findings_for(allowlist, key_policy(leaky), bucket_policy())
    assert {(f.subject, f.action) for f in findings} == {
        ("admin-like role in A", "kms:CreateGrant"),
        ("account A root (administers the key, must not use it)", "kms:CreateGrant"),
        ("deployer of A", "kms:CreateGrant"),
    }


def test_missing_bucket_grant_breaks_the_pipeline(allowlist: Any) -> None:
    findings = findings_for(allowlist, key_policy(), bucket_policy("ArtifactsB"))
    assert {(f.subject, f.action, f.expected, f.actual) for f in findings} == {
        ("training-pipeline-action-role", "s3:GetObject", True, False),
        ("training-pipeline-action-role", "s3:PutObject", True, False),
    }
    assert all("S3:" in f.reason and "cross-account" in f.reason for f in findings)


def test_bucket_access_also_needs_the_kms_call(allowlist: Any) -> None:
    without_hosting = key_policy()
    statements = [s for s in without_hosting.statements if s.sid != "DecryptOnly"]
    narrowed = Policy(without_hosting.name, tuple(statements), without_hosting.version)
    findings = findings_for(allowlist, narrowed, bucket_policy())
    bucket = [f for f in findings if f.category == "bucket"]
    assert {(f.subject, f.action) for f in bucket} == {
        ("production-deploy-function-role", "s3:GetObject"),
        ("production-sagemaker-hosting-role", "s3:GetObject"),
    }
    assert all("kms:Decrypt call S3 makes" in f.reason for f in bucket)


def test_unbound_placeholder_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text("principals: {x: {arn: 'arn:aws:iam::${D}:root'}}\n")
    with pytest.raises(PolicyError, match=r"\$\{D\}"):
        load_allowlist(path, {"A": A, "B": B, "C": C})
