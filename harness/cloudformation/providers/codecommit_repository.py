"""AWS::CodeCommit::Repository (moto's own CloudFormation cannot create it at all)."""

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


class RepositoryProvider(Provider):
    type_name = "AWS::CodeCommit::Repository"
    supported = frozenset({"RepositoryName", "RepositoryDescription", "KmsKeyId", "Tags"})

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return naming.generated_uuid()

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        name = properties.get("RepositoryName", "")
        host = f"git-codecommit.{naming.region}.{naming.url_suffix}"
        return {
            "Arn": naming.arn("codecommit", name),
            "Name": name,
            "RepositoryId": physical_id,
            "CloneUrlHttp": f"https://{host}/v1/repos/{name}",
            "CloneUrlSsh": f"ssh://{host}/v1/repos/{name}",
        }

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        request: dict[str, Any] = {"repositoryName": properties["RepositoryName"]}
        if "RepositoryDescription" in properties:
            request["repositoryDescription"] = properties["RepositoryDescription"]
        if "KmsKeyId" in properties:
            request["kmsKeyId"] = properties["KmsKeyId"]
        if properties.get("Tags"):
            request["tags"] = tag_map(properties["Tags"])
        metadata = ctx.client("codecommit").create_repository(**request)["repositoryMetadata"]
        return Created(metadata["repositoryId"], self._attributes(metadata))

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        codecommit = ctx.client("codecommit")
        name = new["RepositoryName"]
        if old["RepositoryName"] != name:
            codecommit.update_repository_name(oldName=old["RepositoryName"], newName=name)
        if old.get("RepositoryDescription") != new.get("RepositoryDescription"):
            codecommit.update_repository_description(
                repositoryName=name, repositoryDescription=new.get("RepositoryDescription", "")
            )
        if old.get("KmsKeyId") != new.get("KmsKeyId") and "KmsKeyId" in new:
            codecommit.update_repository_encryption_key(
                repositoryName=name, kmsKeyId=new["KmsKeyId"]
            )
        metadata = codecommit.get_repository(repositoryName=name)["repositoryMetadata"]
        arn = metadata["Arn"]
        retag(
            old,
            new,
            untag=lambda keys: codecommit.untag_resource(resourceArn=arn, tagKeys=keys),
            tag=lambda tags: codecommit.tag_resource(resourceArn=arn, tags=tag_map(tags)),
        )
        return self._attributes(metadata)

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        with tolerating("RepositoryDoesNotExistException"):
            ctx.client("codecommit").delete_repository(repositoryName=properties["RepositoryName"])

    @staticmethod
    def _attributes(metadata: dict[str, Any]) -> dict[str, Any]:
        return {
            "Arn": metadata["Arn"],
            "Name": metadata["repositoryName"],
            "RepositoryId": metadata["repositoryId"],
            "CloneUrlHttp": metadata["cloneUrlHttp"],
            "CloneUrlSsh": metadata["cloneUrlSsh"],
        }


PROVIDER = RepositoryProvider()
