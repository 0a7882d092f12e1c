"""AWS::StepFunctions::StateMachine: definition (object or string) with
DefinitionSubstitutions applied, role, type, logging, tags. Ref is the ARN."""

from __future__ import annotations

import json
import re
from typing import Any

from harness.cloudformation.errors import ResourceFailure
from harness.cloudformation.providers.base import (
    Created,
    Naming,
    Properties,
    Provider,
    ProviderContext,
    retag,
    tolerating,
)

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def definition_text(properties: Properties) -> str:
    """The definition as Step Functions receives it: JSON with DefinitionSubstitutions applied;
    when substitutions are given, every `${...}` placeholder must have one."""
    if "Definition" in properties:
        text = json.dumps(properties["Definition"])
    else:
        text = str(properties.get("DefinitionString", ""))
    if "DefinitionSubstitutions" not in properties:
        return text
    substitutions = properties["DefinitionSubstitutions"]

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in substitutions:
            raise ResourceFailure(
                "Invalid State Machine Definition: no DefinitionSubstitutions value for "
                f"${{{name}}}"
            )
        value = substitutions[name]
        return str(value).lower() if isinstance(value, bool) else str(value)

    return _PLACEHOLDER.sub(substitute, text)


def _logging(configuration: Properties) -> dict[str, Any]:
    """Template `LoggingConfiguration` in the Step Functions API's camelCase shape."""
    return {
        "level": configuration.get("Level", "OFF"),
        "includeExecutionData": bool(configuration.get("IncludeExecutionData", False)),
        "destinations": [
            {"cloudWatchLogsLogGroup": {"logGroupArn": d["CloudWatchLogsLogGroup"]["LogGroupArn"]}}
            for d in configuration.get("Destinations", [])
        ],
    }


def _tags(tags: Any) -> list[dict[str, str]]:
    return [{"key": str(t["Key"]), "value": str(t["Value"])} for t in tags or []]


class StateMachineProvider(Provider):
    type_name = "AWS::StepFunctions::StateMachine"
    supported = frozenset(
        {
            "Definition",
            "DefinitionString",
            "DefinitionSubstitutions",
            "RoleArn",
            "StateMachineName",
            "StateMachineType",
            "LoggingConfiguration",
            "Tags",
        }
    )

    def _name(self, naming: Naming, properties: Properties) -> str:
        return properties.get("StateMachineName") or naming.generated_name(80)

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return naming.arn("states", f"stateMachine:{self._name(naming, properties)}")

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        return {"Arn": physical_id, "Name": physical_id.rsplit(":", 1)[-1]}

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        request: dict[str, Any] = {
            "name": self._name(ctx, properties),
            "definition": definition_text(properties),
            "roleArn": properties["RoleArn"],
            "type": properties.get("StateMachineType", "STANDARD"),
        }
        if "LoggingConfiguration" in properties:
            request["loggingConfiguration"] = _logging(properties["LoggingConfiguration"])
        if properties.get("Tags"):
            request["tags"] = _tags(properties["Tags"])
        arn = ctx.client("stepfunctions").create_state_machine(**request)["stateMachineArn"]
        return Created(arn, self.attributes(ctx, arn, properties))

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        sfn = ctx.client("stepfunctions")
        request: dict[str, Any] = {
            "stateMachineArn": physical_id,
            "definition": definition_text(new),
            "roleArn": new["RoleArn"],
        }
        if "LoggingConfiguration" in new:
            request["loggingConfiguration"] = _logging(new["LoggingConfiguration"])
        sfn.update_state_machine(**request)
        retag(
            old,
            new,
            untag=lambda keys: sfn.untag_resource(resourceArn=physical_id, tagKeys=keys),
            tag=lambda tags: sfn.tag_resource(resourceArn=physical_id, tags=_tags(tags)),
        )
        return self.attributes(ctx, physical_id, new)

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        with tolerating("StateMachineDoesNotExist"):
            ctx.client("stepfunctions").delete_state_machine(stateMachineArn=physical_id)


PROVIDER = StateMachineProvider()
