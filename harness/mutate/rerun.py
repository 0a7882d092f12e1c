"""The pipeline run again under a mutant, and what the pipeline, training and endpoint checks
would say of that run.

The checks of ``tests/integration/test_pipeline.py``, ``test_training.py`` and
``test_endpoint.py`` need the execution to succeed (every stage; the deploy function reports
success only once the endpoint is InService) and the model to be SSE-KMS under the key; a run
that fails either is a kill, named by the stage or the model's encryption.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from harness.deadlines import bound, poll
from harness.deploy import Deployment
from harness.deploy.deploy import Progress, push_source
from harness.deploy.pipeline import PipelineRun, follow_execution, stop_executions
from harness.deploy.principals import PrincipalSessions
from harness.deploy.training import NoTraining, latest_training
from harness.targets import Target
from harness.targets.base import describe_stack


def follow(
    target: Target,
    deployment: Deployment,
    timeout_s: float,
    progress: Progress,
    execution_id: str | None = None,
) -> PipelineRun:
    """The execution of the deployment's commit (or ``execution_id``), followed to its end
    with the approval given."""
    codepipeline = target.client("codepipeline", target.session("shared-services"))
    return follow_execution(
        codepipeline, deployment, True, timeout_s, progress, execution_id=execution_id
    )


def run_again(
    target: Target,
    deployment: Deployment,
    timeout_s: float,
    progress: Progress,
    source: Path | None = None,
) -> PipelineRun:
    """One more execution, followed to its end: of a new commit of the bundle rendered from
    ``source``, else of the current commit (StartPipelineExecution)."""
    if source is not None:
        commit = push_source(target, deployment, progress, source)
        pushed = dataclasses.replace(deployment, commit_id=commit)
        return follow(target, pushed, timeout_s, progress)
    codepipeline = target.client("codepipeline", target.session("shared-services"))
    started = codepipeline.start_pipeline_execution(name=deployment.settings.pipeline_name)
    return follow(target, deployment, timeout_s, progress, started["pipelineExecutionId"])


def remove_training_stack(target: Target, deployment: Deployment) -> None:
    """Delete the stack the pipeline deploys (as its service role, as teardown does), so the
    next run creates it afresh."""
    target.destroy_stack(
        "training",
        deployment.settings.training_stack_name,
        deployment.outputs["training"]["CloudFormationRoleArn"],
    )


def stop_running(target: Target, deployment: Deployment, reason: str) -> None:
    """Abandon every execution still in progress (one a mutant left waiting forever), wait
    for it to stop, then for the training stack to settle: an abandoned deploy action's stack
    operation goes on, and the next mutant's run would fail to update the stack (a kill that
    is not that mutant's)."""
    codepipeline = target.client("codepipeline", target.session("shared-services"))
    stop_executions(codepipeline, deployment.settings.pipeline_name, reason)
    cloudformation = target.client("cloudformation", target.session("training"))
    name = deployment.settings.training_stack_name
    for _ in poll(
        f"stack {name} to settle",
        bound("stack_operation", target.stack_timeout_seconds),
        target.stack_poll_seconds,
        target.stack_changes(),
    ):
        stack = describe_stack(cloudformation, name)
        if stack is None or not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return


def run_problem(
    target: Target, deployment: Deployment, principals: PrincipalSessions, run: PipelineRun
) -> str | None:
    """Why the pipeline's checks would fail on ``run`` (None: they would pass)."""
    if run.status != "Succeeded":
        return f"pipeline execution {run.execution_id} {run.status}; " + "; ".join(run.failures())
    try:
        uri = latest_training(target, deployment.settings).model_uri
    except NoTraining as none:
        return f"training: {none}"
    if uri is None:
        return "training: the state machine's output names no model artifact"
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    hosting = deployment.outputs["production"]["SageMakerHostingRoleArn"]
    head = principals.client(hosting, "s3").head_object(Bucket=bucket, Key=key)
    encryption = (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId"))
    if encryption != ("aws:kms", deployment.key_arn):
        return f"training: model {uri} is {encryption[0]} under {encryption[1]}, not this key"
    return None
