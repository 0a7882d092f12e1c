"""CKV_XACCT_019: no hand-edit placeholders (``<ACCOUNT_ID>``, ``<your-bucket>``) in resources.

The original shipped definitions that users edited by hand; a missed placeholder deploys
fine and fails at run time. Our deploy wires real values in through parameters instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.text_rules import placeholders


class PlaceholderLeftInResource(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["*"],
            category=CheckCategories.CONVENTION,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        for text in placeholders(properties):
            yield f"placeholder {text}"


check = PlaceholderLeftInResource()
