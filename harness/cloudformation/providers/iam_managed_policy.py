"""AWS::IAM::ManagedPolicy: a customer-managed policy (Ref = ARN) and its attachments."""

from __future__ import annotations

import hashlib
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

_ATTACH = {
    "Roles": ("attach_role_policy", "detach_role_policy", "RoleName"),
    "Users": ("attach_user_policy", "detach_user_policy", "UserName"),
    "Groups": ("attach_group_policy", "detach_group_policy", "GroupName"),
}
"""Attachment properties and the IAM calls that attach/detach a policy for each."""


def sync_attachments(ctx: ProviderContext, arn: str, old: Properties, new: Properties) -> None:
    """Attach to principals added in `new`, detach from those dropped since `old`."""
    iam = ctx.client("iam")
    for prop, (attach, detach, key) in _ATTACH.items():
        before, after = set(old.get(prop, [])), set(new.get(prop, []))
        for name in sorted(after - before):
            getattr(iam, attach)(PolicyArn=arn, **{key: name})
        for name in sorted(before - after):
            with tolerating("NoSuchEntity"):
                getattr(iam, detach)(PolicyArn=arn, **{key: name})


class ManagedPolicyProvider(Provider):
    type_name = "AWS::IAM::ManagedPolicy"
    supported = frozenset(
        {"ManagedPolicyName", "Path", "Description", "PolicyDocument", "Roles", "Users", "Groups"}
    )

    def _name(self, naming: Naming, properties: Properties) -> str:
        return properties.get("ManagedPolicyName") or naming.generated_name(128)

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        path = properties.get("Path", "/")
        return naming.arn("iam", f"policy{path}{self._name(naming, properties)}", region=False)

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        digest = hashlib.sha256(physical_id.encode()).hexdigest()
        return {"PolicyArn": physical_id, "PolicyId": "ANPA" + digest[:17].upper()}

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        request = {
            "PolicyName": self._name(ctx, properties),
            "Path": properties.get("Path", "/"),
            "PolicyDocument": policy_text(properties["PolicyDocument"]),
        }
        if "Description" in properties:
            request["Description"] = properties["Description"]
        policy = ctx.client("iam").create_policy(**request)["Policy"]
        sync_attachments(ctx, policy["Arn"], {}, properties)
        return Created(policy["Arn"], {"PolicyArn": policy["Arn"], "PolicyId": policy["PolicyId"]})

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        iam = ctx.client("iam")
        if old.get("PolicyDocument") != new.get("PolicyDocument"):
            self._drop_old_versions(ctx, physical_id, keep=3)
            iam.create_policy_version(
                PolicyArn=physical_id,
                PolicyDocument=policy_text(new["PolicyDocument"]),
                SetAsDefault=True,
            )
        sync_attachments(ctx, physical_id, old, new)
        policy = iam.get_policy(PolicyArn=physical_id)["Policy"]
        return {"PolicyArn": physical_id, "PolicyId": policy["PolicyId"]}

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        with tolerating("NoSuchEntity"):
            sync_attachments(ctx, physical_id, properties, {})
            self._drop_old_versions(ctx, physical_id, keep=0)
            ctx.client("iam").delete_policy(PolicyArn=physical_id)

    @staticmethod
    def _drop_old_versions(ctx: ProviderContext, arn: str, keep: int) -> None:
        """IAM holds at most five versions (the default plus four) and deletes a policy only
        without old ones; keeping three makes room for the version about to be created."""
        iam = ctx.client("iam")
        versions = [
            v
            for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]
            if not v["IsDefaultVersion"]
        ]
        versions.sort(key=lambda v: v["CreateDate"])
        for version in versions[: max(0, len(versions) - keep)]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])


PROVIDER = ManagedPolicyProvider()
