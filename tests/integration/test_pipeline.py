"""The pipeline itself: every stage ran as it should, the approval the harness gave is
recorded, and the deploy function posted its job result to the pipeline."""

from __future__ import annotations

import json

import pytest

from harness.deploy import Deployment
from harness.deploy.pipeline import PipelineRun
from harness.render import PIPELINE_DIR
from harness.targets import Capability, Target

# The pipeline is how the model reaches production: its evidence counts for promise 4.
pytestmark = [pytest.mark.promise(4), pytest.mark.requires(Capability.RUNS_PIPELINE)]

DEFINITION = json.loads((PIPELINE_DIR / "pipeline.json").read_text())["pipeline"]
STAGES = [stage["name"] for stage in DEFINITION["stages"]]
APPROVAL_STAGE = next(
    s["name"]
    for s in DEFINITION["stages"]
    if s["actions"][0]["actionTypeId"]["category"] == "Approval"
)
DEPLOY_STAGE = STAGES[-1]


def _status(run: PipelineRun, stage: str) -> str | None:
    return run.stages.get(stage, {}).get("latestExecution", {}).get("status")


@pytest.mark.parametrize("stage", STAGES)
def test_stage_outcome(stage: str, pipeline_run: PipelineRun, approval_expected: bool) -> None:
    before_approval = STAGES.index(stage) < STAGES.index(APPROVAL_STAGE)
    status = _status(pipeline_run, stage)
    detail = pipeline_run.stages.get(stage, {})
    if approval_expected or before_approval:
        assert status == "Succeeded", (
            f"pipeline {pipeline_run.pipeline} stage {stage} is {status} "
            f"(execution {pipeline_run.execution_id}): {json.dumps(detail, default=str)}"
        )
    elif stage == APPROVAL_STAGE:
        assert status == "Failed", f"rejected approval left stage {stage} {status}"
    else:
        assert status is None or _ran_before(detail, pipeline_run), (
            f"stage {stage} ran although the approval was rejected"
        )


def _ran_before(stage: dict, run: PipelineRun) -> bool:
    """A later stage's state from an older execution is not this run's doing."""
    return stage.get("latestExecution", {}).get("pipelineExecutionId") != run.execution_id


def test_execution_status(pipeline_run: PipelineRun, approval_expected: bool) -> None:
    wanted = "Succeeded" if approval_expected else "Failed"
    assert pipeline_run.status == wanted, (
        f"pipeline {pipeline_run.pipeline} execution {pipeline_run.execution_id} is "
        f"{pipeline_run.status}, wanted {wanted}"
        + "".join(f"; {failure}" for failure in pipeline_run.failures())  # a stuck step says so
    )


def test_approval_recorded(pipeline_run: PipelineRun, approval_expected: bool) -> None:
    assert pipeline_run.approval is not None, "the harness never saw the approval waiting"
    stage = pipeline_run.stages[pipeline_run.approval["stage"]]
    action = next(
        a for a in stage["actionStates"] if a["actionName"] == pipeline_run.approval["action"]
    )
    latest = action.get("latestExecution", {})
    assert pipeline_run.approval["summary"] in (latest.get("summary") or ""), (
        f"approval action {action['actionName']} records {latest!r}, not the harness's answer"
    )
    assert latest.get("status") == ("Succeeded" if approval_expected else "Failed")


def test_deploy_function_posted_job_result(
    pipeline_run: PipelineRun,
    deployment: Deployment,
    harness_target: Target,
    approval_expected: bool,
) -> None:
    if not approval_expected:
        pytest.skip("the approval was rejected (--reject-approval): the deploy stage never ran")
    codepipeline = harness_target.client("codepipeline", harness_target.session("shared-services"))
    executions = codepipeline.list_action_executions(
        pipelineName=pipeline_run.pipeline,
        filter={"pipelineExecutionId": pipeline_run.execution_id},
    )["actionExecutionDetails"]
    deploys = [e for e in executions if e["stageName"] == DEPLOY_STAGE]
    assert deploys, f"no action execution in stage {DEPLOY_STAGE}"
    final = max(deploys, key=lambda e: e["lastUpdateTime"])
    summary = final.get("output", {}).get("executionResult", {}).get("externalExecutionSummary")
    assert final["status"] == "Succeeded" and summary, (
        f"deploy function {deployment.wiring.DeployFunctionName}: action is {final['status']} "
        f"with result {final.get('output')!r}; it must PutJobSuccessResult only once the "
        "endpoint is InService"
    )
    assert deployment.settings.endpoint_name in summary
