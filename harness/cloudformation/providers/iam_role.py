"""AWS::IAM::Role: trust policy, inline and managed policies, boundary, session length, tags."""

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
    retag,
    tag_list,
    tolerating,
)


def _inline(properties: Properties) -> dict[str, str]:
    return {
        p["PolicyName"]: policy_text(p["PolicyDocument"]) for p in properties.get("Policies", [])
    }


class RoleProvider(Provider):
    type_name = "AWS::IAM::Role"
    supported = frozenset(
        {
            "AssumeRolePolicyDocument",
            "Policies",
            "ManagedPolicyArns",
            "Path",
            "RoleName",
            "PermissionsBoundary",
            "MaxSessionDuration",
            "Description",
            "Tags",
        }
    )

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return properties.get("RoleName") or naming.generated_name(64)

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        path = properties.get("Path", "/")
        digest = hashlib.sha256(f"{naming.account_id}/{physical_id}".encode()).hexdigest()
        return {
            "Arn": naming.arn("iam", f"role{path}{physical_id}", region=False),
            "RoleId": "AROA" + digest[:17].upper(),
        }

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        iam = ctx.client("iam")
        name = self.physical_id(ctx, properties)
        request: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": policy_text(properties["AssumeRolePolicyDocument"]),
            "Path": properties.get("Path", "/"),
        }
        for field in ("Description", "PermissionsBoundary"):
            if field in properties:
                request[field] = properties[field]
        if "MaxSessionDuration" in properties:
            request["MaxSessionDuration"] = int(properties["MaxSessionDuration"])
        if properties.get("Tags"):
            request["Tags"] = tag_list(properties["Tags"])
        role = iam.create_role(**request)["Role"]
        self._sync_policies(ctx, name, {}, properties)
        return Created(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        iam = ctx.client("iam")
        if old.get("AssumeRolePolicyDocument") != new.get("AssumeRolePolicyDocument"):
            iam.update_assume_role_policy(
                RoleName=physical_id,
                PolicyDocument=policy_text(new["AssumeRolePolicyDocument"]),
            )
        if old.get("Description") != new.get("Description") or old.get(
            "MaxSessionDuration"
        ) != new.get("MaxSessionDuration"):
            iam.update_role(
                RoleName=physical_id,
                Description=new.get("Description", ""),
                MaxSessionDuration=int(new.get("MaxSessionDuration", 3600)),
            )
        if old.get("PermissionsBoundary") != new.get("PermissionsBoundary"):
            if "PermissionsBoundary" in new:
                iam.put_role_permissions_boundary(
                    RoleName=physical_id, PermissionsBoundary=new["PermissionsBoundary"]
                )
            else:
                iam.delete_role_permissions_boundary(RoleName=physical_id)
        retag(
            old,
            new,
            untag=lambda keys: iam.untag_role(RoleName=physical_id, TagKeys=keys),
            tag=lambda tags: iam.tag_role(RoleName=physical_id, Tags=tag_list(tags)),
        )
        self._sync_policies(ctx, physical_id, old, new)
        role = iam.get_role(RoleName=physical_id)["Role"]
        return {"Arn": role["Arn"], "RoleId": role["RoleId"]}

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        iam = ctx.client("iam")
        with tolerating("NoSuchEntity"):
            for attached in iam.list_attached_role_policies(RoleName=physical_id)[
                "AttachedPolicies"
            ]:
                iam.detach_role_policy(RoleName=physical_id, PolicyArn=attached["PolicyArn"])
            for name in iam.list_role_policies(RoleName=physical_id)["PolicyNames"]:
                iam.delete_role_policy(RoleName=physical_id, PolicyName=name)
            iam.delete_role(RoleName=physical_id)

    @staticmethod
    def _sync_policies(ctx: ProviderContext, role: str, old: Properties, new: Properties) -> None:
        """Put changed inline policies, delete dropped ones; attach/detach managed policies."""
        iam = ctx.client("iam")
        before, after = _inline(old), _inline(new)
        for name, document in after.items():
            if before.get(name) != document:
                iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
        for name in before.keys() - after.keys():
            iam.delete_role_policy(RoleName=role, PolicyName=name)
        attached, wanted = set(old.get("ManagedPolicyArns", [])), new.get("ManagedPolicyArns", [])
        for arn in wanted:
            if arn not in attached:
                iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        for arn in attached - set(wanted):
            iam.detach_role_policy(RoleName=role, PolicyArn=arn)


PROVIDER = RoleProvider()
