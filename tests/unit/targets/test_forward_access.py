"""A service calling with the caller's credentials (as SageMaker creates a KMS grant for a
training job) is the same principal, seen by conditions as coming through that service."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget

ACCOUNT = "training"
SAGEMAKER = "sagemaker.amazonaws.com"


@pytest.fixture(scope="module")
def key_and_role(target: LocalTarget) -> tuple[str, boto3.Session]:
    """A role allowed all of KMS by its own policy, and a key whose policy lets it create
    grants only for AWS resources and describe the key only through SageMaker."""
    account = target.accounts[ACCOUNT]
    root = f"arn:aws:iam::{account}:root"
    deployer = target.session(ACCOUNT)
    iam = target.client("iam", deployer)
    trust = {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "sts:AssumeRole"}
    role_arn = iam.create_role(
        RoleName="sagemaker-execution",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="sagemaker-execution",
        PolicyName="all-kms",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
            }
        ),
    )
    role = {"AWS": role_arn}
    policy = [
        {
            "Sid": "Administration",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ["kms:GetKeyPolicy", "kms:PutKeyPolicy"],
            "Resource": "*",
        },
        {
            "Sid": "GrantsForAWSResourcesOnly",
            "Effect": "Allow",
            "Principal": role,
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        {
            "Sid": "DescribeThroughSageMakerOnly",
            "Effect": "Allow",
            "Principal": role,
            "Action": "kms:DescribeKey",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": f"sagemaker.{target.region}.amazonaws.com"}
            },
        },
    ]
    key_arn = target.client("kms", deployer).create_key(
        Policy=json.dumps({"Version": "2012-10-17", "Statement": policy})
    )["KeyMetadata"]["Arn"]
    return key_arn, target.session(ACCOUNT, role_arn=role_arn, session_name="job")


def _grant(session: boto3.Session, target: LocalTarget, key_arn: str) -> Any:
    kms = target.client("kms", session)
    grantee = f"arn:aws:iam::{target.accounts[ACCOUNT]}:role/sagemaker-execution"
    return kms.create_grant(KeyId=key_arn, GranteePrincipal=grantee, Operations=["Decrypt"])


def test_a_grant_for_an_aws_resource_is_allowed_only_via_sagemaker(
    target: LocalTarget, key_and_role: tuple[str, boto3.Session]
) -> None:
    key_arn, role = key_and_role
    with pytest.raises(ClientError) as direct:
        _grant(role, target, key_arn)
    assert direct.value.response["Error"]["Code"] == "AccessDeniedException"
    (refused,) = target.decision_log.for_request(
        direct.value.response["ResponseMetadata"]["RequestId"]
    )
    assert refused["lacking"] == ["key"]
    granted = _grant(target.session_via_service(role, SAGEMAKER), target, key_arn)
    assert granted["GrantId"]
    (allowed,) = target.decision_log.for_request(granted["ResponseMetadata"]["RequestId"])
    assert allowed["principal"].endswith(f"assumed-role/sagemaker-execution/job (via {SAGEMAKER})")
    assert "GrantsForAWSResourcesOnly" in [s["sid"] for s in allowed["deciding"]]


def test_kms_via_service_conditions_see_the_service(
    target: LocalTarget, key_and_role: tuple[str, boto3.Session]
) -> None:
    key_arn, role = key_and_role
    with pytest.raises(ClientError):
        target.client("kms", role).describe_key(KeyId=key_arn)
    via = target.session_via_service(role, SAGEMAKER)
    assert target.client("kms", via).describe_key(KeyId=key_arn)["KeyMetadata"]["Arn"] == key_arn
    same = target.client("sts", via).get_caller_identity()["Arn"]
    assert same == target.client("sts", role).get_caller_identity()["Arn"]


def test_only_the_targets_own_credentials_get_a_forward_access_session(
    target: LocalTarget,
) -> None:
    stranger = boto3.Session(aws_access_key_id="AKIAFORGED0000000000", aws_secret_access_key="x")
    with pytest.raises(ValueError, match="not issued by this local target"):
        target.session_via_service(stranger, SAGEMAKER)
