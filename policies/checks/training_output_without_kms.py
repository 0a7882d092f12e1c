"""CKV_XACCT_017: the training job must encrypt its model output with the shared key.

Without ``OutputDataConfig.KmsKeyId`` SageMaker writes ``model.tar.gz`` with the bucket's
default or an AWS managed key, which the bucket policy denies and account C cannot decrypt.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.stepfunctions import calls, definition, task_states


class TrainingOutputWithoutKmsKey(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::StepFunctions::StateMachine"],
            category=CheckCategories.ENCRYPTION,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        for name, state in task_states(definition(properties) or {}):
            if not calls(state, "sagemaker:createTrainingJob"):
                continue
            parameters = state.get("Parameters")
            if not isinstance(parameters, dict) or "Parameters.$" in state:
                continue  # parameters built at run time: nothing to read here
            output = parameters.get("OutputDataConfig")
            if not isinstance(output, dict) or not (
                output.get("KmsKeyId") or output.get("KmsKeyId.$")
            ):
                yield f"States.{name}.Parameters.OutputDataConfig: no KmsKeyId"


check = TrainingOutputWithoutKmsKey()
