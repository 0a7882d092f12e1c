"""Following a pipeline execution through the CodePipeline API: found by commit, approval
answered with the token the state shows, stage durations from the state's timestamps."""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from harness.deploy.pipeline import (
    PipelineRun,
    PipelineTimeout,
    follow_execution,
    stop_executions,
)

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
DEFINITION = {
    "stages": [
        {
            "name": "Source",
            "actions": [
                {"name": "Src", "actionTypeId": {"category": "Source", "provider": "CodeCommit"}}
            ],
        },
        {
            "name": "Approve",
            "actions": [
                {"name": "Ok", "actionTypeId": {"category": "Approval", "provider": "Manual"}}
            ],
        },
    ]
}


class FakePipeline:
    """Just enough of CodePipeline: one execution that waits for approval."""

    def __init__(self, commit: str | None, at_approval: str = "e1") -> None:
        self.commit = commit
        self.at_approval = at_approval  # the execution the Approve stage is working on
        self.answer: dict[str, Any] | None = None

    def get_pipeline(self, name: str) -> dict[str, Any]:
        return {"pipeline": DEFINITION}

    def list_pipeline_executions(self, pipelineName: str) -> dict[str, Any]:
        revisions = [{"revisionId": self.commit}] if self.commit else []
        return {
            "pipelineExecutionSummaries": [
                {"pipelineExecutionId": "e1", "sourceRevisions": revisions, "startTime": T0}
            ]
        }

    def get_pipeline_execution(self, pipelineName: str, pipelineExecutionId: str) -> dict:
        if self.answer is None:
            status = "InProgress"
        else:
            status = "Succeeded" if self.answer["status"] == "Approved" else "Failed"
        return {"pipelineExecution": {"status": status}}

    def get_pipeline_state(self, name: str) -> dict[str, Any]:
        approval = {"status": "InProgress", "token": "tok"}
        if self.answer is not None:
            approval = {
                "status": "Succeeded" if self.answer["status"] == "Approved" else "Failed",
                "summary": self.answer["summary"],
                "lastStatusChange": T0 + datetime.timedelta(seconds=5),
            }
        source = {"status": "Succeeded", "lastStatusChange": T0 + datetime.timedelta(seconds=2)}
        return {
            "stageStates": [
                {
                    "stageName": "Source",
                    "latestExecution": {"status": "Succeeded", "pipelineExecutionId": "e1"},
                    "actionStates": [{"actionName": "Src", "latestExecution": source}],
                },
                {
                    "stageName": "Approve",
                    "latestExecution": {
                        "status": approval["status"],
                        "pipelineExecutionId": self.at_approval,
                    },
                    "actionStates": [{"actionName": "Ok", "latestExecution": approval}],
                },
            ]
        }

    def put_approval_result(self, **request: Any) -> None:
        assert request["token"] == "tok" and request["stageName"] == "Approve"
        self.answer = request["result"]


def _deployment(commit: str | None) -> Any:
    """The parts of a Deployment the follower reads."""
    return SimpleNamespace(
        commit_id=commit,
        outputs={"shared-services": {"SourceChangeRuleName": "rule"}},
        settings=SimpleNamespace(pipeline_name="p"),
    )


@pytest.mark.parametrize("approve", [True, False])
def test_approval_answered_and_durations_from_timestamps(approve: bool) -> None:
    fake = FakePipeline("c1")
    run = follow_execution(fake, _deployment("c1"), approve, timeout_s=5, poll_s=0)
    assert run.execution_id == "e1"
    assert run.status == ("Succeeded" if approve else "Failed")
    assert run.approval is not None and run.approval["status"] == (
        "Approved" if approve else "Rejected"
    )
    assert run.stage_seconds() == {"Source": 2.0, "Approve": 3.0}


def test_no_execution_for_the_commit_names_the_rule() -> None:
    with pytest.raises(PipelineTimeout, match="source change rule rule"):
        follow_execution(FakePipeline("other"), _deployment("c1"), True, timeout_s=0, poll_s=0)


def test_approval_of_another_execution_is_never_answered() -> None:
    # QUEUED: an older execution ("e0") holds the Approve stage; ours must wait its turn.
    fake = FakePipeline("c1", at_approval="e0")
    with pytest.raises(PipelineTimeout, match="still InProgress"):
        follow_execution(fake, _deployment("c1"), True, timeout_s=0.05, poll_s=0.01)
    assert fake.answer is None


def test_failures_name_each_action_of_this_execution_that_did_not_succeed() -> None:
    def stage(execution: str, *actions: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            "latestExecution": {"pipelineExecutionId": execution, "status": "Failed"},
            "actionStates": [{"actionName": n, "latestExecution": e} for n, e in actions],
        }

    failed = {"status": "Failed", "errorDetails": {"message": "AccessDenied on kms:Decrypt"}}
    run = PipelineRun(
        "p",
        "e2",
        "Failed",
        stages={
            "Source": stage("e2", ("Source", {"status": "Succeeded"})),
            "Train": stage("e2", ("Train", failed), ("Other", {"status": "Abandoned"})),
            "Approve": stage("e2", ("Approve", {"status": "InProgress"})),
            "Deploy": stage("e1", ("Deploy", failed)),  # an older execution's: not this run's
        },
    )
    assert run.failures() == [
        "Train/Train Failed: AccessDenied on kms:Decrypt",
        "Train/Other Abandoned: no error details",
    ]


class Stopping:
    """Executions e1 (in progress, takes two looks to stop) and e0 (long over)."""

    def __init__(self) -> None:
        self.stopped: list[dict[str, Any]] = []
        self.looks = 0

    def list_pipeline_executions(self, pipelineName: str) -> dict[str, Any]:
        return {
            "pipelineExecutionSummaries": [
                {"pipelineExecutionId": "e1", "status": "InProgress" if not self.stopped else ""},
                {"pipelineExecutionId": "e0", "status": "Succeeded"},
            ]
        }

    def stop_pipeline_execution(self, **request: Any) -> None:
        self.stopped.append(request)

    def get_pipeline_execution(self, pipelineName: str, pipelineExecutionId: str) -> dict:
        assert pipelineExecutionId == "e1", "only what was running is waited for"
        self.looks += 1
        return {"pipelineExecution": {"status": "Stopping" if self.looks < 2 else "Stopped"}}


def test_stop_executions_abandons_what_runs_and_waits_until_it_stopped() -> None:
    codepipeline = Stopping()
    stop_executions(codepipeline, "p", "harness teardown")  # type: ignore[arg-type]
    assert codepipeline.stopped == [
        {
            "pipelineName": "p",
            "pipelineExecutionId": "e1",
            "abandon": True,
            "reason": "harness teardown",
        }
    ]
    assert codepipeline.looks == 2
    stop_executions(codepipeline, "p", "again")  # type: ignore[arg-type]
    assert len(codepipeline.stopped) == 1 and codepipeline.looks == 2  # nothing runs now
