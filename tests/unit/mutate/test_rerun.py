"""Stopping a run that hung: its executions abandoned and stopped, then the training stack
settled, so the next mutant's run does not fail on an operation the abandoned one left."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from harness.mutate.rerun import stop_running


class Clients:
    """A pipeline with one execution in progress, and a training stack still updating for
    ``updating`` more looks."""

    def __init__(self, updating: int) -> None:
        self.updating = updating
        self.calls: list[str] = []

    def list_pipeline_executions(self, pipelineName: str) -> dict[str, Any]:
        return {"pipelineExecutionSummaries": [{"pipelineExecutionId": "e1", "status": "x"}]}

    def stop_pipeline_execution(self, **request: Any) -> None:
        raise AssertionError("nothing is in progress")

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        self.calls.append(StackName)
        status = "UPDATE_IN_PROGRESS" if len(self.calls) <= self.updating else "UPDATE_COMPLETE"
        return {"Stacks": [{"StackName": StackName, "StackStatus": status}]}


def _target(clients: Clients) -> Any:
    return SimpleNamespace(
        client=lambda _service, _session: clients,
        session=lambda role: role,
        stack_timeout_seconds=30.0,
        stack_poll_seconds=0.01,
        stack_changes=lambda: None,
    )


def test_the_training_stack_is_settled_before_the_next_run() -> None:
    clients = Clients(updating=2)
    deployment: Any = SimpleNamespace(
        settings=SimpleNamespace(pipeline_name="p", training_stack_name="mlops-training")
    )
    stop_running(_target(clients), deployment, "hung")
    assert clients.calls == ["mlops-training"] * 3  # twice in progress, then settled
