"""CKV_XACCT_007: the shared symmetric key must rotate its material yearly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.cfn_values import render


class KeyRotationDisabled(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::KMS::Key"],
            category=CheckCategories.ENCRYPTION,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        if render(properties.get("KeySpec", "SYMMETRIC_DEFAULT")) != "SYMMETRIC_DEFAULT":
            return  # AWS rotates only symmetric encryption keys
        rotation = render(properties.get("EnableKeyRotation", "false"))
        if rotation.lower() != "true":
            yield f"EnableKeyRotation: {rotation}"


check = KeyRotationDisabled()
