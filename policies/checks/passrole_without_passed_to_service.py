"""CKV_XACCT_012: iam:PassRole must say which service the role may be passed to.

Without ``iam:PassedToService`` the holder can hand the role to any service (e.g. a Lambda
or EC2 instance of its own) and act with the role's permissions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.iam import IDENTITY_POLICY_TYPES, allows, condition_keys, identity_statements


class PassRoleWithoutPassedToService(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=list(IDENTITY_POLICY_TYPES),
            category=CheckCategories.IAM,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        for index, statement in enumerate(identity_statements(resource_type, properties)):
            if allows(statement, "iam:PassRole") and (
                "iam:passedtoservice" not in condition_keys(statement)
            ):
                yield f"identity policy statement [{index}]: iam:PassRole"


check = PassRoleWithoutPassedToService()
