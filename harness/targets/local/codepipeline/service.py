"""The local CodePipeline's state: pipelines per account and region (with their earlier
versions) and their executions, each run by the runner in its own thread."""

from __future__ import annotations

import copy
import threading
import uuid
from typing import Any

from harness.deadlines import Workers
from harness.targets.local.codecommit import CodeCommitService
from harness.targets.local.codepipeline.json_api import ServiceError
from harness.targets.local.codepipeline.model import Execution, Pipeline, now
from harness.targets.local.codepipeline.runner import Runner, ServiceSessions
from harness.targets.local.codepipeline.waits import Waits

PipelineKey = tuple[str, str, str]  # account id, region, name


class PipelineStore:
    """Pipelines and executions; each execution runs in its own runner thread."""

    def __init__(
        self,
        sessions: ServiceSessions,
        codecommit: CodeCommitService,
        settings: dict[str, float] | None = None,
    ) -> None:
        self.waits = Waits()
        self.runner = Runner(sessions, codecommit, self.waits, settings)
        self._pipelines: dict[PipelineKey, Pipeline] = {}
        self._executions: dict[PipelineKey, list[Execution]] = {}  # oldest first
        self._workers = Workers("pipeline execution")
        self._lock = threading.Lock()

    # pipelines -----------------------------------------------------------------------------
    def create(self, account_id: str, region: str, declaration: dict[str, Any]) -> Pipeline:
        _check_structure(declaration)
        key = (account_id, region, declaration["name"])
        with self._lock:
            if key in self._pipelines:
                raise ServiceError(
                    "PipelineNameInUseException", f"Pipeline {key[2]} already exists"
                )
            moment = now()
            pipeline = Pipeline(account_id, region, _stored(declaration, 1), 1, moment, moment)
            self._pipelines[key] = pipeline
            self._executions[key] = []
        return pipeline

    def update(self, account_id: str, region: str, declaration: dict[str, Any]) -> Pipeline:
        _check_structure(declaration)
        with self._lock:
            pipeline = self._pipeline((account_id, region, declaration["name"]))
            pipeline.earlier[pipeline.version] = pipeline.declaration
            pipeline.version += 1
            pipeline.declaration = _stored(declaration, pipeline.version)
            pipeline.updated = now()
        return pipeline

    def delete(self, account_id: str, region: str, name: str) -> None:
        key = (account_id, region, name)
        with self._lock:
            if self._pipelines.pop(key, None) is None:
                return
            for execution in self._executions.pop(key, []):
                if execution.status == "InProgress":
                    execution.abandon = True
                    execution.stop.set()

    def get(self, account_id: str, region: str, name: str) -> Pipeline:
        with self._lock:
            return self._pipeline((account_id, region, name))

    def pipelines(self, account_id: str, region: str) -> list[Pipeline]:
        with self._lock:
            return [p for k, p in self._pipelines.items() if k[:2] == (account_id, region)]

    def _pipeline(self, key: PipelineKey) -> Pipeline:
        pipeline = self._pipelines.get(key)
        if pipeline is None:
            raise ServiceError(
                "PipelineNotFoundException",
                f"Account '{key[0]}' does not have a pipeline with name '{key[2]}'",
            )
        return pipeline

    # executions ----------------------------------------------------------------------------
    def start(
        self,
        account_id: str,
        region: str,
        name: str,
        trigger: dict[str, str],
        source_revisions: dict[str, str] | None = None,
    ) -> Execution:
        """A new execution; ``source_revisions`` pins Source actions to commits."""
        key = (account_id, region, name)
        with self._lock:
            pipeline = self._pipeline(key)
            declaration = copy.deepcopy(pipeline.declaration)
            _check_source_revisions(declaration, source_revisions or {})
            execution = Execution(
                str(uuid.uuid4()), pipeline, declaration, trigger, dict(source_revisions or {})
            )
            self._executions[key].append(execution)
        self._workers.start(f"{name} {execution.execution_id}", self.runner.run, execution)
        return execution

    def execution(self, account_id: str, region: str, name: str, execution_id: str) -> Execution:
        for execution in self.executions(account_id, region, name):
            if execution.execution_id == execution_id:
                return execution
        raise ServiceError(
            "PipelineExecutionNotFoundException",
            f"Pipeline execution {execution_id} of pipeline {name} not found",
        )

    def executions(self, account_id: str, region: str, name: str) -> list[Execution]:
        """Newest first, as ListPipelineExecutions orders them."""
        with self._lock:
            self._pipeline((account_id, region, name))
            return list(reversed(self._executions[(account_id, region, name)]))

    def stop(self, execution: Execution, abandon: bool, reason: str | None) -> None:
        with self._lock:
            if execution.status != "InProgress":
                raise ServiceError(
                    "PipelineExecutionNotStoppableException",
                    f"Execution {execution.execution_id} is {execution.status}",
                )
            execution.stop_reason = reason or ""
            execution.abandon = abandon
            execution.status = "Stopping"  # the runner makes it Stopped
            execution.stop.set()

    def wait(self, bound_s: float | None = None) -> list[str]:
        """Abandon running executions and let them end within the bound; those stuck."""
        with self._lock:
            for executions in self._executions.values():
                for execution in executions:
                    execution.abandon = True
                    execution.stop.set()
        return self._workers.join(bound_s)


def _stored(declaration: dict[str, Any], version: int) -> dict[str, Any]:
    stored = copy.deepcopy(declaration)
    stored["version"] = version
    return stored


def _check_source_revisions(declaration: dict[str, Any], revisions: dict[str, str]) -> None:
    sources = {
        action["name"]
        for action in declaration["stages"][0]["actions"]
        if action["actionTypeId"]["provider"] == "CodeCommit"
    }
    unknown = sorted(set(revisions) - sources)
    if unknown:
        raise ServiceError(
            "ValidationException", f"sourceRevisions name no CodeCommit source action: {unknown}"
        )


def _check_structure(declaration: dict[str, Any]) -> None:
    """What CodePipeline checks beyond the API model (InvalidStructureException)."""
    problems = []
    stages = declaration["stages"]
    if len(stages) < 2:
        problems.append("a pipeline needs at least two stages")
    if len({s["name"] for s in stages}) != len(stages):
        problems.append("stage names must be unique")
    produced: set[str] = set()
    for index, stage in enumerate(stages):
        names = [a["name"] for a in stage["actions"]]
        if len(set(names)) != len(names):
            problems.append(f"action names in stage {stage['name']} must be unique")
        is_source = [a["actionTypeId"]["category"] == "Source" for a in stage["actions"]]
        if (index == 0) != all(is_source) or (index > 0 and any(is_source)):
            problems.append(f"stage {stage['name']}: only the first stage holds Source actions")
        for action in sorted(stage["actions"], key=lambda a: int(a.get("runOrder", 1))):
            for artifact in action.get("inputArtifacts", []):
                if artifact["name"] not in produced:
                    problems.append(
                        f"action {action['name']}: input artifact {artifact['name']} is not "
                        "the output of an earlier action"
                    )
            produced.update(a["name"] for a in action.get("outputArtifacts", []))
    if problems:
        raise ServiceError("InvalidStructureException", "; ".join(problems))
