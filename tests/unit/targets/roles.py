"""Roles the local target's tests make: a trust policy for one principal, and a role of an
account that its deployer may assume, holding only the permissions a test gives it."""

from __future__ import annotations

import json
from typing import Any

from harness.targets.local import DEPLOYER_ROLE, LocalTarget


def trust(principal: dict[str, str]) -> dict[str, Any]:
    """A trust policy letting ``principal`` (``{"Service": ...}`` or ``{"AWS": ...}``) assume."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }


def deployer_role(
    target: LocalTarget, account: str, name: str, statements: list[dict[str, Any]]
) -> str:
    """A role of ``account`` its deployer may assume, allowed only ``statements``; its ARN."""
    iam = target.client("iam", target.session(account))
    deployer = f"arn:aws:iam::{target.account_id(account)}:role/{DEPLOYER_ROLE}"
    created = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust({"AWS": deployer}))
    )
    if statements:
        policy = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName=name, PolicyName="own", PolicyDocument=json.dumps(policy))
    arn: str = created["Role"]["Arn"]
    return arn
