"""AWS::IAM::Policy: one inline policy put on each named role, user and group."""

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

_TARGETS = {
    "Roles": ("put_role_policy", "delete_role_policy", "RoleName"),
    "Users": ("put_user_policy", "delete_user_policy", "UserName"),
    "Groups": ("put_group_policy", "delete_group_policy", "GroupName"),
}
"""Target properties and the IAM calls that put/delete an inline policy on each."""


class PolicyProvider(Provider):
    type_name = "AWS::IAM::Policy"
    supported = frozenset({"PolicyName", "PolicyDocument", "Roles", "Users", "Groups"})

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return naming.generated_name(64)

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        return {"Id": physical_id}

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        self._put(ctx, properties, {})
        physical_id = self.physical_id(ctx, properties)
        return Created(physical_id, {"Id": physical_id})

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        self._put(ctx, new, old)
        return {"Id": physical_id}

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        self._remove(ctx, properties, {})

    @staticmethod
    def _put(ctx: ProviderContext, new: Properties, old: Properties) -> None:
        iam = ctx.client("iam")
        document = policy_text(new["PolicyDocument"])
        for prop, (put, _, key) in _TARGETS.items():
            for name in new.get(prop, []):
                getattr(iam, put)(
                    PolicyName=new["PolicyName"], PolicyDocument=document, **{key: name}
                )
        PolicyProvider._remove(ctx, old, new)

    @staticmethod
    def _remove(ctx: ProviderContext, old: Properties, new: Properties) -> None:
        """Delete the policy from targets of `old` that `new` no longer covers under that name."""
        iam = ctx.client("iam")
        for prop, (_, delete, key) in _TARGETS.items():
            keep = (
                set(new.get(prop, [])) if new.get("PolicyName") == old.get("PolicyName") else set()
            )
            for name in set(old.get(prop, [])) - keep:
                with tolerating("NoSuchEntity"):
                    getattr(iam, delete)(PolicyName=old["PolicyName"], **{key: name})


PROVIDER = PolicyProvider()
