"""CKV_XACCT_015: a cross-account artifact store key must be a key ARN, not an alias.

Other accounts cannot resolve an alias of account A, so B's and C's action roles fail to
decrypt artifacts at run time. The same rule checks pipeline.json in the gate itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.text_rules import alias_artifact_keys


class PipelineArtifactKeyIsAlias(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::CodePipeline::Pipeline"],
            category=CheckCategories.ENCRYPTION,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        yield from alias_artifact_keys(properties)


check = PipelineArtifactKeyIsAlias()
