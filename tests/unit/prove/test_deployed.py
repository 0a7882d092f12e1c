"""A deployed role as the proof reads it back: its policies and its permissions boundary."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from harness.prove.deployed import _role

TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "*"}]}
NO_KEY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "NotAction": "kms:*", "Resource": "*"}],
}


@mock_aws
def test_a_role_brings_its_boundary_and_names_one_it_cannot_read() -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    boundary = iam.create_policy(PolicyName="no-key", PolicyDocument=json.dumps(NO_KEY))
    arn = boundary["Policy"]["Arn"]
    iam.create_role(
        RoleName="bounded", AssumeRolePolicyDocument=json.dumps(TRUST), PermissionsBoundary=arn
    )
    role = _role(iam, iam.get_role(RoleName="bounded")["Role"])
    assert role.boundary is not None and role.unread_boundary is None
    assert role.boundary.policy.statements[0].not_action
    missing = arn.replace("no-key", "gone")
    iam.put_role_permissions_boundary(RoleName="bounded", PermissionsBoundary=missing)
    role = _role(iam, iam.get_role(RoleName="bounded")["Role"])
    assert role.boundary is None and role.unread_boundary == missing
