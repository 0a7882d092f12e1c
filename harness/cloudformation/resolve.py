"""Static resolution: a rendered template without deploying it. Physical ids and attributes
of resources come from `physical_ids` where given and the providers' naming rules otherwise
(e.g. a role's Arn from its RoleName and Path), so the same resolver serves deploy and
analysis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.cloudformation.parameters import BoundParameter
from harness.cloudformation.plan import Output, Plan
from harness.cloudformation.providers import provider_for


@dataclass(frozen=True)
class ResolvedResource:
    """One active resource with its properties resolved."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    physical_id: str
    attributes: dict[str, Any]
    depends_on: tuple[str, ...]
    deletion_policy: str


@dataclass(frozen=True)
class ResolvedTemplate:
    """Resources in creation order, outputs, conditions and bound parameters."""

    resources: dict[str, ResolvedResource]
    outputs: dict[str, Output]
    conditions: dict[str, bool]
    parameters: dict[str, BoundParameter]


class _PredictingLookup:
    """Answers Ref/GetAtt from given physical ids or the providers' naming rules; types the
    engine has no provider for answer with `<LogicalId>` / `<LogicalId.Attribute>`."""

    def __init__(self, plan: Plan, physical_ids: Mapping[str, str]) -> None:
        self.plan, self.physical_ids = plan, physical_ids
        self.resolved: dict[str, ResolvedResource] = {}

    def resource(self, logical_id: str) -> ResolvedResource:
        if logical_id not in self.resolved:
            plan = self.plan
            type_name = plan.resources[logical_id]["Type"]
            properties = plan.properties(logical_id)
            provider, naming = provider_for(type_name), plan.naming(logical_id)
            physical_id = self.physical_ids.get(logical_id) or (
                provider.physical_id(naming, properties) if provider else f"<{logical_id}>"
            )
            attributes = provider.attributes(naming, physical_id, properties) if provider else {}
            self.resolved[logical_id] = ResolvedResource(
                logical_id=logical_id,
                type=type_name,
                properties=properties,
                physical_id=physical_id,
                attributes=attributes,
                depends_on=tuple(sorted(plan.dependencies[logical_id])),
                deletion_policy=plan.deletion_policy(logical_id),
            )
        return self.resolved[logical_id]

    def ref(self, logical_id: str) -> Any:
        return self.resource(logical_id).physical_id

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return self.resource(logical_id).attributes.get(attribute, f"<{logical_id}.{attribute}>")


def resolve(
    template: str | Mapping[str, Any],
    parameters: Mapping[str, Any],
    account_id: str,
    region: str,
    stack_name: str,
    physical_ids: Mapping[str, str] | None = None,
    *,
    exports: Mapping[str, str] | None = None,
) -> ResolvedTemplate:
    """Render `template` for a stack without creating anything. Raises `ValidationError`
    (naming the parameter, resource or property) for what CloudFormation would reject."""
    plan = Plan(template, parameters, account_id, region, stack_name, exports=exports)
    lookup = _PredictingLookup(plan, physical_ids or {})
    plan.lookup = lookup
    resources = {name: lookup.resource(name) for name in plan.order}
    return ResolvedTemplate(
        resources=resources,
        outputs=plan.outputs(),
        conditions=plan.conditions,
        parameters=plan.parameters,
    )
