"""Deploy / CloudFormation, ``CREATE_UPDATE``: create the stack, or update it, with the
template and template configuration from the input artifact, as the action's role with the
configured service role; wait for it. Stack outputs become namespace variables and, with
``OutputFileName``, a JSON file in the output artifact."""

from __future__ import annotations

import json
from typing import Any

from botocore.client import BaseClient

from harness.deadlines import DeadlineExceeded, bound, poll
from harness.targets.base import create_or_update_stack, describe_stack
from harness.targets.local.codepipeline.actions.base import ActionContext, ActionOutcome
from harness.targets.local.codepipeline.waits import ActionAbandoned, ActionFailed

_DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}


def run(context: ActionContext) -> ActionOutcome:
    configuration = context.configuration
    mode = configuration.get("ActionMode")
    if mode != "CREATE_UPDATE":
        raise ActionFailed("JobFailed", f"ActionMode {mode} is not supported by the local target")
    name = configuration["StackName"]
    request = _request(context, name)
    cloudformation = context.client("cloudformation")
    create_or_update_stack(cloudformation, request)
    stack = _wait(context, cloudformation, name)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    files = {}
    if configuration.get("OutputFileName") and context.outputs:
        document = json.dumps(outputs, indent=2).encode()
        files[context.outputs[0].name] = {configuration["OutputFileName"]: document}
    return ActionOutcome(
        summary=f"Stack {name} is {stack['StackStatus']}",
        files=files,
        variables=outputs,
        external_id=stack["StackId"],
    )


def _request(context: ActionContext, name: str) -> dict[str, Any]:
    configuration = context.configuration
    template = context.input_file(configuration["TemplatePath"]).decode()
    settings: dict[str, Any] = {}
    if configuration.get("TemplateConfiguration"):
        settings = json.loads(context.input_file(configuration["TemplateConfiguration"]))
    parameters = dict(settings.get("Parameters", {}))
    parameters.update(json.loads(configuration.get("ParameterOverrides") or "{}"))
    request: dict[str, Any] = {
        "StackName": name,
        "TemplateBody": template,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Tags": [{"Key": k, "Value": v} for k, v in settings.get("Tags", {}).items()],
    }
    if configuration.get("Capabilities"):
        request["Capabilities"] = configuration["Capabilities"].split(",")
    if configuration.get("RoleArn"):
        request["RoleARN"] = configuration["RoleArn"]
    return request


def _wait(context: ActionContext, cloudformation: BaseClient, name: str) -> dict[str, Any]:
    try:
        for _ in poll(f"stack {name} to finish", bound("stack_operation")):
            stack = describe_stack(cloudformation, name)
            if stack is None:
                raise ActionFailed("JobFailed", f"Stack {name} disappeared")
            status = stack["StackStatus"]
            if not status.endswith("_IN_PROGRESS"):
                break
            if context.execution.stop.is_set() and context.execution.abandon:
                raise ActionAbandoned(f"stack {name} is {status}")
    except DeadlineExceeded as exceeded:
        raise ActionFailed("JobFailed", str(exceeded)) from exceeded
    if status in _DONE:
        return stack
    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    reasons = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if e["ResourceStatus"].endswith("FAILED")
    ]
    detail = "; ".join(reasons) or stack.get("StackStatusReason", "")
    raise ActionFailed("JobFailed", f"Stack {name} is {status}: {detail}")
