"""The deployer role an emulator target (local, LocalStack) bootstraps in each account, as an
organisation's account-access role would be: the name the allow-list and the rendered stacks
resolve, trusted by the account's root and allowed everything. Real accounts bring their own."""

from __future__ import annotations

from typing import Any

from harness.allowlist import DEPLOYER_ROLE

__all__ = ["ADMINISTRATOR_POLICY", "DEPLOYER_ROLE", "root_trust"]

ADMINISTRATOR_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AdministratorAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}
    ],
}
"""The deployer's inline policy, named ``AdministratorAccess``."""


def root_trust(account_id: str) -> dict[str, Any]:
    """The deployer's trust policy: the account's root (any of its principals allowed to) may
    assume it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
