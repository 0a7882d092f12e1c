"""Follow the pipeline execution a push started, answering its manual approval.

Only the CodePipeline API is used (as on AWS): the execution is found by the pushed commit,
the approval is answered with PutApprovalResult using the token GetPipelineState shows, and the
run ends when the execution reaches a final status.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

from harness.deadlines import DeadlineExceeded, poll
from harness.deploy.deploy import Deployment, Progress

FINAL = {"Succeeded", "Failed", "Stopped", "Superseded"}
APPROVAL_PROVIDER = "Manual"
STOP_WAIT_S = 60.0


class PipelineTimeout(RuntimeError):
    """The execution did not start or finish in time; the message has the stage states."""


@dataclass
class PipelineRun:
    """The outcome of one execution, as the CodePipeline API reports it."""

    pipeline: str
    execution_id: str
    status: str
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> stage state
    approval: dict[str, str] | None = None  # what the harness answered
    seconds: float = 0.0
    started: datetime.datetime | None = None  # the execution's start, as CodePipeline says

    def failures(self) -> list[str]:
        """``stage/action: message`` for each action of this execution that did not succeed
        (a stage's state from an older execution is not this run's doing)."""
        return [
            f"{stage}/{action['actionName']} {latest['status']}: "
            + latest.get("errorDetails", {}).get("message", "no error details")
            for stage, state in self.stages.items()
            if state.get("latestExecution", {}).get("pipelineExecutionId") == self.execution_id
            for action in state.get("actionStates", [])
            if (latest := action.get("latestExecution", {})).get("status", "Succeeded")
            not in ("Succeeded", "InProgress")
        ]

    def stage_seconds(self) -> dict[str, float]:
        """How long each stage took, from the state's own timestamps: a stage ends at its
        last action's status change, and starts where the previous one ended."""
        durations = {}
        previous = self.started
        for name, stage in self.stages.items():
            changes = [
                action["latestExecution"]["lastStatusChange"]
                for action in stage.get("actionStates", [])
                if "lastStatusChange" in action.get("latestExecution", {})
            ]
            if not changes or previous is None:
                break
            ended = max(changes)
            durations[name] = max(0.0, (ended - previous).total_seconds())
            previous = ended
        return durations


def _approval_actions(pipeline: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (stage["name"], action["name"])
        for stage in pipeline["stages"]
        for action in stage["actions"]
        if action["actionTypeId"]["category"] == "Approval"
        and action["actionTypeId"]["provider"] == APPROVAL_PROVIDER
    }


def _find_execution(
    codepipeline: BaseClient, name: str, commit_id: str, execution_id: str | None = None
) -> dict[str, Any] | None:
    """The execution ``execution_id`` if given, else the newest of ``commit_id``."""
    for execution in codepipeline.list_pipeline_executions(pipelineName=name)[
        "pipelineExecutionSummaries"
    ]:
        revisions = [r.get("revisionId") for r in execution.get("sourceRevisions", [])]
        if execution.get("pipelineExecutionId") == execution_id or (
            execution_id is None and commit_id in revisions
        ):
            return dict(execution)
    return None


def _stage_summary(stages: dict[str, dict[str, Any]]) -> str:
    return ", ".join(
        f"{name}: {state.get('latestExecution', {}).get('status', 'not run')}"
        for name, state in stages.items()
    )


def stop_executions(codepipeline: BaseClient, name: str, reason: str) -> None:
    """Abandon the pipeline's executions in progress and wait, up to ``STOP_WAIT_S``, for
    each to stop, so that none of their actions still runs: teardown would see one create a
    resource after removing its kind. What an action started may go on (a stack operation:
    see ``harness.mutate.rerun.stop_running``). At the bound it returns anyway (teardown's
    leak check tells what that left)."""
    summaries = codepipeline.list_pipeline_executions(pipelineName=name)[
        "pipelineExecutionSummaries"
    ]
    running = [s["pipelineExecutionId"] for s in summaries if s["status"] == "InProgress"]
    for execution_id in running:
        codepipeline.stop_pipeline_execution(
            pipelineName=name, pipelineExecutionId=execution_id, abandon=True, reason=reason
        )
    try:
        for _ in poll(f"pipeline {name}: abandoned executions to stop", STOP_WAIT_S, 0.2):
            running = [
                execution_id
                for execution_id in running
                if codepipeline.get_pipeline_execution(
                    pipelineName=name, pipelineExecutionId=execution_id
                )["pipelineExecution"]["status"]
                in {"InProgress", "Stopping"}
            ]
            if not running:
                return
    except DeadlineExceeded:
        return


def follow_execution(
    codepipeline: BaseClient,
    deployment: Deployment,
    approve: bool,
    timeout_s: float,
    progress: Progress = lambda _message: None,
    poll_s: float = 0.2,
    execution_id: str | None = None,
) -> PipelineRun:
    """Wait for the execution of ``deployment.commit_id`` (or ``execution_id``, one started
    by StartPipelineExecution), answer the approval, and return the final state. Raises
    :class:`PipelineTimeout` naming the stages' states."""
    name = deployment.settings.pipeline_name
    if deployment.commit_id is None:
        raise ValueError("no source was pushed, so no execution was started")
    began = time.monotonic()
    deadline = began + timeout_s
    definition = codepipeline.get_pipeline(name=name)["pipeline"]
    approvals = _approval_actions(definition)
    try:
        for _ in poll(
            f"pipeline {name}: an execution for commit {deployment.commit_id}", timeout_s, poll_s
        ):
            execution = _find_execution(codepipeline, name, deployment.commit_id, execution_id)
            if execution is not None:
                break
    except DeadlineExceeded as exceeded:
        raise PipelineTimeout(
            f"{exceeded}; the source change rule "
            f"{deployment.outputs['shared-services'].get('SourceChangeRuleName')} "
            "should start one on a push to main"
        ) from exceeded
    execution_id = execution["pipelineExecutionId"]
    progress(f"pipeline {name}: execution {execution_id} started")
    run = PipelineRun(name, execution_id, "InProgress", started=execution.get("startTime"))
    reported: set[str] = set()
    remaining = max(deadline - time.monotonic(), 0.0)
    try:
        for _ in poll(f"pipeline {name}: execution {execution_id}", remaining, poll_s):
            if _advance(codepipeline, run, approvals, approve, progress, reported):
                run.seconds = time.monotonic() - began
                return run
    except DeadlineExceeded as exceeded:
        raise PipelineTimeout(
            f"pipeline {name}: execution {execution_id} still {run.status} after "
            f"{timeout_s:.0f} s ({_stage_summary(run.stages)})"
        ) from exceeded
    raise AssertionError("poll ends by raising DeadlineExceeded")


def _advance(
    codepipeline: BaseClient,
    run: PipelineRun,
    approvals: set[tuple[str, str]],
    approve: bool,
    progress: Progress,
    reported: set[str],
) -> bool:
    """One look at the execution: report new stage states, answer the approval once it
    waits; True when the execution has ended (``run`` then holds its final state)."""
    name, execution_id = run.pipeline, run.execution_id
    status = codepipeline.get_pipeline_execution(
        pipelineName=name, pipelineExecutionId=execution_id
    )["pipelineExecution"]["status"]
    state = codepipeline.get_pipeline_state(name=name)
    run.stages = {s["stageName"]: s for s in state["stageStates"]}
    for stage_name, stage in run.stages.items():
        stage_status = stage.get("latestExecution", {}).get("status")
        if stage_status and f"{stage_name}:{stage_status}" not in reported:
            reported.add(f"{stage_name}:{stage_status}")
            progress(f"pipeline {name}: stage {stage_name} {stage_status}")
    run.status = status
    if status in FINAL:
        if run.approval is None:  # answered before (an adopted deployment's run)
            run.approval = _recorded_approval(run.stages, approvals, execution_id)
        return True
    if run.approval is None:
        run.approval = _answer_approval(
            codepipeline, name, run.stages, approvals, approve, execution_id
        )
        if run.approval is not None:
            progress(f"pipeline {name}: approval answered {run.approval['status']}")
    return False


def _answer_approval(
    codepipeline: BaseClient,
    name: str,
    stages: dict[str, dict[str, Any]],
    approvals: set[tuple[str, str]],
    approve: bool,
    execution_id: str,
) -> dict[str, str] | None:
    """Answer the approval only if the stage is at it for *this* execution: with QUEUED
    executions a newer push may be waiting at the same stage behind it."""
    for stage_name, stage in _stages_of(stages, execution_id):
        for action in stage.get("actionStates", []):
            latest = action.get("latestExecution", {})
            if (stage_name, action["actionName"]) not in approvals:
                continue
            if latest.get("status") != "InProgress" or "token" not in latest:
                continue
            result = {
                "status": "Approved" if approve else "Rejected",
                "summary": "harness: " + ("approved" if approve else "rejected on request"),
            }
            codepipeline.put_approval_result(
                pipelineName=name,
                stageName=stage_name,
                actionName=action["actionName"],
                result=result,
                token=latest["token"],
            )
            return {"stage": stage_name, "action": action["actionName"], **result}
    return None


def _stages_of(
    stages: dict[str, dict[str, Any]], execution_id: str
) -> list[tuple[str, dict[str, Any]]]:
    """The stages whose latest execution is ``execution_id``."""
    return [
        (name, stage)
        for name, stage in stages.items()
        if stage.get("latestExecution", {}).get("pipelineExecutionId") == execution_id
    ]


def _recorded_approval(
    stages: dict[str, dict[str, Any]], approvals: set[tuple[str, str]], execution_id: str
) -> dict[str, str] | None:
    """The approval answer the pipeline state shows, for an execution followed after it."""
    ours = dict(_stages_of(stages, execution_id))
    for stage_name, action_name in sorted(approvals):
        for action in ours.get(stage_name, {}).get("actionStates", []):
            latest = action.get("latestExecution", {})
            if action["actionName"] == action_name and "summary" in latest:
                status = "Approved" if latest.get("status") == "Succeeded" else "Rejected"
                return {
                    "stage": stage_name,
                    "action": action_name,
                    "status": status,
                    "summary": latest["summary"],
                }
    return None
