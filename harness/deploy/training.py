"""What the pipeline's training stage produced, read back through the AWS APIs: the newest
execution of the training state machine and the training job it started."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.deploy.settings import Settings
from harness.targets import Target


class NoTraining(LookupError):
    """The state machine has not run: the pipeline never reached training."""


@dataclass(frozen=True)
class TrainingResult:
    """The state machine execution the pipeline ran, and the job it started."""

    execution: dict[str, Any]
    output: dict[str, Any]
    job: dict[str, Any]

    @property
    def model_uri(self) -> str | None:
        return self.output.get("ModelArtifacts")


def latest_training(target: Target, settings: Settings) -> TrainingResult:
    """The newest execution of the training stack's state machine, with its job."""
    training = target.session("training")
    cloudformation = target.client("cloudformation", training)
    stack = cloudformation.describe_stacks(StackName=settings.training_stack_name)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}
    machine = outputs["StateMachineArn"]
    stepfunctions = target.client("stepfunctions", training)
    executions = stepfunctions.list_executions(stateMachineArn=machine)["executions"]
    if not executions:
        raise NoTraining(f"state machine {machine} has no execution after the pipeline ran")
    latest = max(executions, key=lambda e: e["startDate"])
    execution = stepfunctions.describe_execution(executionArn=latest["executionArn"])
    output = json.loads(execution.get("output") or "{}")
    job = {}
    if output.get("TrainingJobName"):
        job = target.client("sagemaker", training).describe_training_job(
            TrainingJobName=output["TrainingJobName"]
        )
    return TrainingResult(execution, output, job)
