"""CKV_XACCT_011: the CloudFormation service role must not double as a SageMaker role.

The original reused one role for both, so every training job ran with the permissions needed
to create and delete the whole stack, and the stack role could read every artifact.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.iam import service_principals, statements

_EXCLUSIVE = {"cloudformation.amazonaws.com", "sagemaker.amazonaws.com"}


class RoleTrustedByCloudFormationAndSageMaker(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::IAM::Role"],
            category=CheckCategories.IAM,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        trusted = {
            p
            for s in statements(properties.get("AssumeRolePolicyDocument"))
            for p in service_principals(s)
        }
        if trusted >= _EXCLUSIVE:
            yield f"AssumeRolePolicyDocument: trusts {', '.join(sorted(_EXCLUSIVE))}"


check = RoleTrustedByCloudFormationAndSageMaker()
