"""CKV_XACCT_002: key use and CreateGrant must go to named roles, not to whole accounts.

A key policy may name another account's root (KMS rejects role principals that do not
exist yet) only when ``aws:PrincipalArn`` is pinned to exact role ARNs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.iam import (
    KMS_USE_ACTIONS,
    allows_any,
    is_account_principal,
    principals,
    restricts_principal_arn,
    statements,
)


class KeyUseGrantedToAccount(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::KMS::Key"],
            category=CheckCategories.IAM,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        for index, statement in enumerate(statements(properties.get("KeyPolicy"))):
            granted = allows_any(statement, KMS_USE_ACTIONS)
            accounts = [p for p in principals(statement, "AWS") if is_account_principal(p)]
            if granted and accounts and not restricts_principal_arn(statement):
                yield (
                    f"KeyPolicy.Statement[{index}]: {', '.join(granted)} to {', '.join(accounts)}"
                )


check = KeyUseGrantedToAccount()
