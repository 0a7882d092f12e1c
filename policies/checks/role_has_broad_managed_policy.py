"""CKV_XACCT_005: no AWS managed *FullAccess or AdministratorAccess policy on our principals.

The original's pipeline role held AmazonS3FullAccess and AmazonSageMakerFullAccess, which
reach every bucket and every SageMaker resource of the account, not just the pipeline's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.cfn_values import as_list, render

_BROAD = re.compile(r":iam::aws:policy/(.*/)?(AdministratorAccess|PowerUserAccess|[^/]*FullAccess)")


class BroadManagedPolicyAttached(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"],
            category=CheckCategories.IAM,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        for arn in (render(a) for a in as_list(properties.get("ManagedPolicyArns"))):
            if _BROAD.search(arn):
                yield f"ManagedPolicyArns: {arn}"


check = BroadManagedPolicyAttached()
