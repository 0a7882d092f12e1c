"""AWS::Events::Rule on the default event bus: pattern or schedule, state and targets.

Ref is the rule's name. Targets are replaced as a set on update, as CloudFormation does.
"""

from __future__ import annotations

import json
from typing import Any

from harness.cloudformation.providers.base import (
    Created,
    Naming,
    Properties,
    Provider,
    ProviderContext,
    tolerating,
)

_TARGET_FIELDS = {"Id": "Id", "Arn": "Arn", "RoleArn": "RoleArn", "Input": "Input"}


def _targets(properties: Properties) -> list[dict[str, Any]]:
    return [
        {api: target[cfn] for cfn, api in _TARGET_FIELDS.items() if cfn in target}
        for target in properties.get("Targets", [])
    ]


class EventsRuleProvider(Provider):
    type_name = "AWS::Events::Rule"
    supported = frozenset(
        {"Name", "Description", "EventPattern", "ScheduleExpression", "State", "Targets"}
    )

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return properties.get("Name") or naming.generated_name(64)

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        return {"Arn": naming.arn("events", f"rule/{physical_id}")}

    def _put(self, ctx: ProviderContext, name: str, properties: Properties) -> None:
        request: dict[str, Any] = {"Name": name, "State": properties.get("State", "ENABLED")}
        if "EventPattern" in properties:
            pattern = properties["EventPattern"]
            request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        for field in ("ScheduleExpression", "Description"):
            if field in properties:
                request[field] = properties[field]
        ctx.client("events").put_rule(**request)

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        name = self.physical_id(ctx, properties)
        self._put(ctx, name, properties)
        if properties.get("Targets"):
            ctx.client("events").put_targets(Rule=name, Targets=_targets(properties))
        return Created(name, self.attributes(ctx, name, properties))

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        self._put(ctx, physical_id, new)
        events = ctx.client("events")
        stale = {t["Id"] for t in _targets(old)} - {t["Id"] for t in _targets(new)}
        if stale:
            events.remove_targets(Rule=physical_id, Ids=sorted(stale))
        if new.get("Targets"):
            events.put_targets(Rule=physical_id, Targets=_targets(new))
        return self.attributes(ctx, physical_id, new)

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        events = ctx.client("events")
        with tolerating("ResourceNotFoundException"):
            ids = [t["Id"] for t in _targets(properties)]
            if ids:
                events.remove_targets(Rule=physical_id, Ids=ids)
            events.delete_rule(Name=physical_id)


PROVIDER = EventsRuleProvider()
