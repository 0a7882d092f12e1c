"""CKV_XACCT_014: Lambda functions must run on a supported runtime (the original: python3.6).

Deprecation dates come from the runtime lifecycle data cfn-lint ships.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource
from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.cfn_values import render

_LIFECYCLE: dict[str, dict[str, Any]] = load_resource(AdditionalSpecs, "LmbdRuntimeLifecycle.json")


class LambdaRuntimeDeprecated(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::Lambda::Function", "AWS::Serverless::Function"],
            category=CheckCategories.GENERAL_SECURITY,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        runtime = render(properties.get("Runtime", ""))
        deprecated = (_LIFECYCLE.get(runtime) or {}).get("deprecated")
        if deprecated and date.fromisoformat(deprecated) <= date.today():
            yield f"Runtime: {runtime} (deprecated {deprecated})"


check = LambdaRuntimeDeprecated()
