"""CKV_XACCT_010: an action must be granted on resources of a kind it applies to.

The original granted CodeCommit actions on the artifact bucket's ARN: the statement matches
nothing, and whoever wrote it believed the repository was covered. The resource kinds (and
their ARN services) an action applies to come from cfn-lint's IAM reference data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.cfn_values import as_list, render
from harness.gate.iam import (
    IDENTITY_POLICY_TYPES,
    arn_service,
    arn_services,
    matching_actions,
    policy_statements,
)


def _applies_to_none(pattern: str, services: set[str]) -> bool:
    """True when every resource-scoped action the pattern names misses all ``services``."""
    scoped = [found for a in matching_actions(pattern) if (found := arn_services(a)) is not None]
    return bool(scoped) and all(found.isdisjoint(services) for found in scoped)


class ActionResourceServiceMismatch(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=list(IDENTITY_POLICY_TYPES),
            category=CheckCategories.IAM,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        for statement in policy_statements(resource_type, properties):
            arns = [render(r) for r in as_list(statement.get("Resource"))]
            known = [arn_service(a) for a in arns]
            if not arns or None in known:
                continue  # "*" or an ARN only known at deploy time: nothing to compare
            services = {s for s in known if s}
            for pattern in (render(a) for a in as_list(statement.get("Action"))):
                if _applies_to_none(pattern, services):
                    yield f"Action {pattern} on {', '.join(arns)}"


check = ActionResourceServiceMismatch()
