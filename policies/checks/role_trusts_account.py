"""CKV_XACCT_004: a role must trust named roles or services, not a whole account.

Trusting an account root lets every principal of that account that has sts:AssumeRole
become the role; the original's pipeline and source-repository roles did this.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.iam import (
    is_account_principal,
    principals,
    restricts_principal_arn,
    statements,
)


class RoleTrustsWholeAccount(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::IAM::Role"],
            category=CheckCategories.IAM,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        for index, statement in enumerate(statements(properties.get("AssumeRolePolicyDocument"))):
            if statement.get("Effect") != "Allow":
                continue
            accounts = [p for p in principals(statement, "AWS") if is_account_principal(p)]
            if accounts and not restricts_principal_arn(statement):
                yield f"AssumeRolePolicyDocument.Statement[{index}]: {', '.join(accounts)}"


check = RoleTrustsWholeAccount()
