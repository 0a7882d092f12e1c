"""AWS::KMS::Alias: an alias pointing at a key (same account only, as aliases are)."""

from __future__ import annotations

from typing import Any

from harness.cloudformation.providers.base import (
    Created,
    Naming,
    Properties,
    Provider,
    ProviderContext,
    tolerating,
)


class AliasProvider(Provider):
    type_name = "AWS::KMS::Alias"
    supported = frozenset({"AliasName", "TargetKeyId"})

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return str(properties.get("AliasName"))

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        return {}

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        ctx.client("kms").create_alias(
            AliasName=properties["AliasName"], TargetKeyId=properties["TargetKeyId"]
        )
        return Created(properties["AliasName"], {})

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        ctx.client("kms").update_alias(AliasName=physical_id, TargetKeyId=new["TargetKeyId"])
        return {}

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        with tolerating("NotFoundException"):
            ctx.client("kms").delete_alias(AliasName=physical_id)


PROVIDER = AliasProvider()
