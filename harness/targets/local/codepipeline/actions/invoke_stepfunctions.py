"""Invoke / StepFunctions: start the state machine, wait for the execution, and put its
output as ``output.json`` in the output artifact."""

from __future__ import annotations

from harness.deadlines import DeadlineExceeded, bound, poll
from harness.targets.local.codepipeline.actions.base import ActionContext, ActionOutcome
from harness.targets.local.codepipeline.waits import ActionAbandoned, ActionFailed


def run(context: ActionContext) -> ActionOutcome:
    configuration = context.configuration
    state_machine = configuration["StateMachineArn"]
    input_type = configuration.get("InputType", "Literal")
    if input_type == "FilePath":
        document = context.input_file(configuration["Input"]).decode()
    else:
        document = configuration.get("Input", "{}")
    prefix = configuration.get("ExecutionNamePrefix")
    execution_id = context.run.action_execution_id
    name = f"{prefix}-{execution_id}" if prefix else execution_id
    stepfunctions = context.client("stepfunctions")
    execution_arn = stepfunctions.start_execution(
        stateMachineArn=state_machine, name=name, input=document
    )["executionArn"]
    context.run.external_id = execution_arn
    what = f"execution {execution_arn} of state machine {state_machine} to end"
    try:
        for _ in poll(what, bound("state_machine_execution")):
            described = stepfunctions.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                break
            if context.execution.stop.is_set() and context.execution.abandon:
                raise ActionAbandoned(f"execution {execution_arn} is RUNNING")
    except DeadlineExceeded as exceeded:
        stepfunctions.stop_execution(executionArn=execution_arn, cause=str(exceeded))
        raise ActionFailed("JobFailed", str(exceeded)) from exceeded
    status = described["status"]
    if status != "SUCCEEDED":
        error = described.get("error", "")
        cause = described.get("cause", "")
        raise ActionFailed("JobFailed", f"Execution {execution_arn} {status}: {error} {cause}")
    files = {}
    if context.outputs:
        files[context.outputs[0].name] = {"output.json": described.get("output", "").encode()}
    return ActionOutcome(
        summary=f"Execution {execution_arn} SUCCEEDED",
        files=files,
        variables={"ExecutionArn": execution_arn, "StateMachineArn": state_machine},
        external_id=execution_arn,
    )
