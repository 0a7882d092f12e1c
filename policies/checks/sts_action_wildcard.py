"""CKV_XACCT_009: STS actions must be named exactly, not with wildcards.

``sts:AssumeRole*`` also grants AssumeRoleWithSAML and AssumeRoleWithWebIdentity (and any
action STS adds later); cross-account hops need sts:AssumeRole alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.iam import IDENTITY_POLICY_TYPES, action_patterns, policy_statements, split_action


class StsActionWildcard(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=list(IDENTITY_POLICY_TYPES),
            category=CheckCategories.IAM,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        for statement in policy_statements(resource_type, properties):
            if statement.get("Effect") != "Allow":
                continue
            for pattern in action_patterns(statement):
                service, name = split_action(pattern)
                if service == "sts" and ("*" in name or "?" in name):
                    yield f"Action: {pattern}"


check = StsActionWildcard()
