"""CKV_XACCT_003: only the key's own account administers the key, never a workload role.

The original made the pipeline role a key administrator, so anything that could act as the
pipeline could rewrite the key policy or schedule the key's deletion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.iam import (
    KMS_ADMIN_ACTIONS,
    allows_any,
    identity_statements,
    is_role_principal,
    principals,
    statements,
)


class KeyAdministeredByRole(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=[
                "AWS::KMS::Key",
                "AWS::IAM::Role",
                "AWS::IAM::Policy",
                "AWS::IAM::ManagedPolicy",
                "AWS::IAM::RolePolicy",
            ],
            category=CheckCategories.IAM,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        if resource_type == "AWS::KMS::Key":
            for index, statement in enumerate(statements(properties.get("KeyPolicy"))):
                granted = allows_any(statement, KMS_ADMIN_ACTIONS)
                roles = [p for p in principals(statement, "AWS") if is_role_principal(p)]
                if granted and roles:
                    yield (
                        f"KeyPolicy.Statement[{index}]: {', '.join(granted)} to {', '.join(roles)}"
                    )
            return
        for index, statement in enumerate(identity_statements(resource_type, properties)):
            granted = allows_any(statement, KMS_ADMIN_ACTIONS)
            if granted:
                yield f"identity policy statement [{index}]: {', '.join(granted)}"


check = KeyAdministeredByRole()
