"""AWS::KMS::Key: key policy sent as the JSON string KMS expects, rotation, state, tags;
deleting schedules deletion as CloudFormation does."""

from __future__ import annotations

from typing import Any

from harness.cloudformation.providers.base import (
    Created,
    Naming,
    Properties,
    Provider,
    ProviderContext,
    policy_text,
    retag,
    tolerating,
)


def _kms_tags(tags: Any) -> list[dict[str, str]]:
    return [{"TagKey": str(t["Key"]), "TagValue": str(t["Value"])} for t in tags or []]


def _enabled(properties: Properties, name: str, default: bool) -> bool:
    return str(properties.get(name, default)).lower() == "true"


class KeyProvider(Provider):
    type_name = "AWS::KMS::Key"
    supported = frozenset(
        {
            "KeyPolicy",
            "EnableKeyRotation",
            "Enabled",
            "Description",
            "KeySpec",
            "KeyUsage",
            "PendingWindowInDays",
            "Tags",
        }
    )
    replaced_by = frozenset({"KeySpec", "KeyUsage"})

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return naming.generated_uuid()

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        return {"Arn": naming.arn("kms", f"key/{physical_id}"), "KeyId": physical_id}

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        kms = ctx.client("kms")
        request: dict[str, Any] = {
            name: properties[name]
            for name in ("Description", "KeySpec", "KeyUsage")
            if name in properties
        }
        if "KeyPolicy" in properties:
            request["Policy"] = policy_text(properties["KeyPolicy"])
        if properties.get("Tags"):
            request["Tags"] = _kms_tags(properties["Tags"])
        metadata = kms.create_key(**request)["KeyMetadata"]
        key_id = metadata["KeyId"]
        if _enabled(properties, "EnableKeyRotation", False):
            kms.enable_key_rotation(KeyId=key_id)
        if not _enabled(properties, "Enabled", True):
            kms.disable_key(KeyId=key_id)
        return Created(key_id, {"Arn": metadata["Arn"], "KeyId": key_id})

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        kms = ctx.client("kms")
        if old.get("KeyPolicy") != new.get("KeyPolicy") and "KeyPolicy" in new:
            kms.put_key_policy(
                KeyId=physical_id, PolicyName="default", Policy=policy_text(new["KeyPolicy"])
            )
        if old.get("Description") != new.get("Description"):
            kms.update_key_description(KeyId=physical_id, Description=new.get("Description", ""))
        rotation = _enabled(new, "EnableKeyRotation", False)
        if rotation != _enabled(old, "EnableKeyRotation", False):
            (kms.enable_key_rotation if rotation else kms.disable_key_rotation)(KeyId=physical_id)
        enabled = _enabled(new, "Enabled", True)
        if enabled != _enabled(old, "Enabled", True):
            (kms.enable_key if enabled else kms.disable_key)(KeyId=physical_id)
        retag(
            old,
            new,
            untag=lambda keys: kms.untag_resource(KeyId=physical_id, TagKeys=keys),
            tag=lambda tags: kms.tag_resource(KeyId=physical_id, Tags=_kms_tags(tags)),
        )
        return self.attributes(ctx, physical_id, new) | {
            "Arn": kms.describe_key(KeyId=physical_id)["KeyMetadata"]["Arn"]
        }

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        with tolerating("NotFoundException", "KMSInvalidStateException"):
            ctx.client("kms").schedule_key_deletion(
                KeyId=physical_id,
                PendingWindowInDays=int(properties.get("PendingWindowInDays", 30)),
            )


PROVIDER = KeyProvider()
