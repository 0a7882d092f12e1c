"""AWS::S3::BucketPolicy: the bucket's resource policy (moto's own CloudFormation drops it)."""

from __future__ import annotations

from typing import Any

from harness.cloudformation.providers.base import (
    Created,
    Naming,
    Properties,
    Provider,
    ProviderContext,
    policy_text,
    tolerating,
)


class BucketPolicyProvider(Provider):
    type_name = "AWS::S3::BucketPolicy"
    supported = frozenset({"Bucket", "PolicyDocument"})

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return str(properties.get("Bucket"))

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        return {}

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        self._put(ctx, properties)
        return Created(self.physical_id(ctx, properties), {})

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        self._put(ctx, new)
        return {}

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        with tolerating("NoSuchBucket", "NoSuchBucketPolicy"):
            ctx.client("s3").delete_bucket_policy(Bucket=physical_id)

    @staticmethod
    def _put(ctx: ProviderContext, properties: Properties) -> None:
        ctx.client("s3").put_bucket_policy(
            Bucket=properties["Bucket"], Policy=policy_text(properties["PolicyDocument"])
        )


PROVIDER = BucketPolicyProvider()
