"""CKV_XACCT_016: SageMaker images must be pinned to a version tag or digest.

The original trained on ``xgboost:latest``: the same commit could train with a different
algorithm version tomorrow, and the hosting image could stop matching the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.cfn_values import as_list, render
from harness.gate.stepfunctions import definition, substitute, substitutions, task_states
from harness.gate.text_rules import is_unpinned_image

_IMAGE_KEYS = ("TrainingImage", "Image")


def _images(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """``(path, image)`` for every image key in a state's Parameters (JSONPath ones skipped)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _IMAGE_KEYS and isinstance(item, str):
                yield f"{path}.{key}", item
            else:
                yield from _images(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _images(item, f"{path}[{index}]")


class SageMakerImageUnpinned(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::StepFunctions::StateMachine", "AWS::SageMaker::Model"],
            category=CheckCategories.SUPPLY_CHAIN,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        if resource_type == "AWS::SageMaker::Model":
            containers = [("PrimaryContainer", properties.get("PrimaryContainer"))] + [
                (f"Containers[{i}]", c) for i, c in enumerate(as_list(properties.get("Containers")))
            ]
            for where, container in containers:
                image = render(container.get("Image", "")) if isinstance(container, dict) else ""
                if image and is_unpinned_image(image):
                    yield f"{where}.Image: {image}"
            return
        machine = definition(properties) or {}
        values = substitutions(properties)
        for name, state in task_states(machine):
            for path, image in _images(state.get("Parameters"), f"States.{name}.Parameters"):
                resolved = substitute(image, values)
                if is_unpinned_image(resolved):
                    yield f"{path}: {resolved}"


check = SageMakerImageUnpinned()
