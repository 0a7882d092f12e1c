"""AWS::S3::Bucket: the bucket plus each configuration CloudFormation applies with it."""

from __future__ import annotations

from typing import Any

from harness.cloudformation.errors import ResourceFailure
from harness.cloudformation.providers.base import (
    Created,
    Naming,
    Properties,
    Provider,
    ProviderContext,
    tag_list,
    tolerating,
)

_RULE_FIELDS = {
    "Id": lambda v: {"ID": v},
    "Status": lambda v: {"Status": v},
    "Prefix": lambda v: {"Filter": {"Prefix": v}},
    "ExpirationInDays": lambda v: {"Expiration": {"Days": int(v)}},
    "ExpirationDate": lambda v: {"Expiration": {"Date": v}},
    "ExpiredObjectDeleteMarker": lambda v: {"Expiration": {"ExpiredObjectDeleteMarker": bool(v)}},
    "NoncurrentVersionExpirationInDays": lambda v: {
        "NoncurrentVersionExpiration": {"NoncurrentDays": int(v)}
    },
    "NoncurrentVersionExpiration": lambda v: {
        "NoncurrentVersionExpiration": {
            "NoncurrentDays": int(v["NoncurrentDays"]),
            **(
                {"NewerNoncurrentVersions": int(v["NewerNoncurrentVersions"])}
                if "NewerNoncurrentVersions" in v
                else {}
            ),
        }
    },
    "AbortIncompleteMultipartUpload": lambda v: {
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": int(v["DaysAfterInitiation"])}
    },
    "Transitions": lambda v: {
        "Transitions": [
            {"Days": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]} for t in v
        ]
    },
    "NoncurrentVersionTransitions": lambda v: {
        "NoncurrentVersionTransitions": [
            {"NoncurrentDays": int(t["TransitionInDays"]), "StorageClass": t["StorageClass"]}
            for t in v
        ]
    },
}
"""Template lifecycle-rule fields and the S3 API fields each becomes."""


def lifecycle_rules(configuration: Properties) -> list[dict[str, Any]]:
    """Template `LifecycleConfiguration` in PutBucketLifecycleConfiguration's shape."""
    rules = []
    for rule in configuration.get("Rules", []):
        converted: dict[str, Any] = {"Filter": {}}
        for name, value in rule.items():
            if name not in _RULE_FIELDS:
                raise ResourceFailure(
                    f"Lifecycle rule property {name} is not supported by the local "
                    "CloudFormation engine"
                )
            for key, part in _RULE_FIELDS[name](value).items():
                merged = {**converted.get(key, {}), **part} if isinstance(part, dict) else part
                converted[key] = merged
        rules.append(converted)
    return rules


class BucketProvider(Provider):
    type_name = "AWS::S3::Bucket"
    supported = frozenset(
        {
            "BucketName",
            "BucketEncryption",
            "VersioningConfiguration",
            "PublicAccessBlockConfiguration",
            "OwnershipControls",
            "LifecycleConfiguration",
            "Tags",
        }
    )

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return properties.get("BucketName") or naming.generated_name(63, lowercase=True)

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        host = f"{physical_id}.s3"
        return {
            "Arn": naming.arn("s3", physical_id, region=False, account=False),
            "DomainName": f"{host}.{naming.url_suffix}",
            "RegionalDomainName": f"{host}.{naming.region}.{naming.url_suffix}",
            "DualStackDomainName": f"{host}.dualstack.{naming.region}.{naming.url_suffix}",
            "WebsiteURL": f"http://{physical_id}.s3-website-{naming.region}.{naming.url_suffix}",
        }

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        name = self.physical_id(ctx, properties)
        request: dict[str, Any] = {"Bucket": name}
        if ctx.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        ctx.client("s3").create_bucket(**request)
        self._configure(ctx, name, {}, properties)
        return Created(name, self.attributes(ctx, name, properties))

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        self._configure(ctx, physical_id, old, new)
        return self.attributes(ctx, physical_id, new)

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        with tolerating("NoSuchBucket"):
            ctx.client("s3").delete_bucket(Bucket=physical_id)

    @staticmethod
    def _configure(ctx: ProviderContext, bucket: str, old: Properties, new: Properties) -> None:
        """Apply each configuration that differs between `old` and `new`; remove dropped ones."""
        s3 = ctx.client("s3")

        def changed(name: str) -> bool:
            return old.get(name) != new.get(name)

        if changed("BucketEncryption"):
            if "BucketEncryption" in new:
                rules = [
                    {
                        "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                        **(
                            {"BucketKeyEnabled": rule["BucketKeyEnabled"]}
                            if "BucketKeyEnabled" in rule
                            else {}
                        ),
                    }
                    for rule in new["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
                s3.put_bucket_encryption(
                    Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules}
                )
            else:
                s3.delete_bucket_encryption(Bucket=bucket)
        if changed("VersioningConfiguration"):
            status = new.get("VersioningConfiguration", {}).get("Status", "Suspended")
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})
        if changed("PublicAccessBlockConfiguration"):
            if "PublicAccessBlockConfiguration" in new:
                s3.put_public_access_block(
                    Bucket=bucket,
                    PublicAccessBlockConfiguration=new["PublicAccessBlockConfiguration"],
                )
            else:
                s3.delete_public_access_block(Bucket=bucket)
        if changed("OwnershipControls"):
            if "OwnershipControls" in new:
                s3.put_bucket_ownership_controls(
                    Bucket=bucket, OwnershipControls=new["OwnershipControls"]
                )
            else:
                s3.delete_bucket_ownership_controls(Bucket=bucket)
        if changed("LifecycleConfiguration"):
            if "LifecycleConfiguration" in new:
                s3.put_bucket_lifecycle_configuration(
                    Bucket=bucket,
                    LifecycleConfiguration={
                        "Rules": lifecycle_rules(new["LifecycleConfiguration"])
                    },
                )
            else:
                s3.delete_bucket_lifecycle(Bucket=bucket)
        if changed("Tags"):
            if new.get("Tags"):
                s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list(new["Tags"])})
            else:
                s3.delete_bucket_tagging(Bucket=bucket)


PROVIDER = BucketProvider()
