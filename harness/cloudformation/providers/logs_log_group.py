"""AWS::Logs::LogGroup: retention and KMS key; Ref is the name."""

from __future__ import annotations

from typing import Any

from harness.cloudformation.providers.base import (
    Created,
    Naming,
    Properties,
    Provider,
    ProviderContext,
    retag,
    tag_map,
    tolerating,
)


class LogGroupProvider(Provider):
    type_name = "AWS::Logs::LogGroup"
    supported = frozenset({"LogGroupName", "RetentionInDays", "KmsKeyId", "Tags"})

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return properties.get("LogGroupName") or naming.generated_name(512)

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        return {"Arn": naming.arn("logs", f"log-group:{physical_id}:*")}

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        logs = ctx.client("logs")
        name = self.physical_id(ctx, properties)
        request: dict[str, Any] = {"logGroupName": name}
        if "KmsKeyId" in properties:
            request["kmsKeyId"] = properties["KmsKeyId"]
        if properties.get("Tags"):
            request["tags"] = tag_map(properties["Tags"])
        logs.create_log_group(**request)
        if "RetentionInDays" in properties:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(properties["RetentionInDays"])
            )
        return Created(name, self.attributes(ctx, name, properties))

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        logs = ctx.client("logs")
        if old.get("RetentionInDays") != new.get("RetentionInDays"):
            if "RetentionInDays" in new:
                logs.put_retention_policy(
                    logGroupName=physical_id, retentionInDays=int(new["RetentionInDays"])
                )
            else:
                logs.delete_retention_policy(logGroupName=physical_id)
        if old.get("KmsKeyId") != new.get("KmsKeyId"):
            if "KmsKeyId" in new:
                logs.associate_kms_key(logGroupName=physical_id, kmsKeyId=new["KmsKeyId"])
            else:
                logs.disassociate_kms_key(logGroupName=physical_id)
        arn = self.attributes(ctx, physical_id, new)["Arn"].removesuffix(":*")
        retag(
            old,
            new,
            untag=lambda keys: logs.untag_resource(resourceArn=arn, tagKeys=keys),
            tag=lambda tags: logs.tag_resource(resourceArn=arn, tags=tag_map(tags)),
        )
        return self.attributes(ctx, physical_id, new)

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        with tolerating("ResourceNotFoundException"):
            ctx.client("logs").delete_log_group(logGroupName=physical_id)


PROVIDER = LogGroupProvider()
