"""CKV_XACCT_008: every IAM action must exist (e.g. ``kms:ReEncrypt`` does not).

An unknown action matches nothing: the statement silently grants less than intended (or,
in a Deny, protects less). Validity comes from the IAM reference data cfn-lint ships.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.cfn_values import is_token
from harness.gate.iam import POLICY_TYPES, action_patterns, is_valid_action, policy_statements


class InvalidIamAction(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=list(POLICY_TYPES),
            category=CheckCategories.IAM,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        for statement in policy_statements(resource_type, properties):
            for pattern in action_patterns(statement):
                if not is_token(pattern) and not is_valid_action(pattern):
                    yield f"Action: {pattern}"


check = InvalidIamAction()
