"""What the local CodePipeline remembers: pipelines as created, and each execution's stage and
action runs, in the shapes GetPipelineState, GetPipelineExecution and ListActionExecutions
report."""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from typing import Any


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class Pipeline:
    account_id: str
    region: str
    declaration: dict[str, Any]  # the `pipeline` structure exactly as given
    version: int
    created: datetime.datetime
    updated: datetime.datetime
    earlier: dict[int, dict[str, Any]] = field(default_factory=dict)  # older versions

    @property
    def name(self) -> str:
        return str(self.declaration["name"])

    def at_version(self, version: int | None) -> dict[str, Any] | None:
        """The declaration of ``version`` (None: the current one), or None if unknown."""
        if version is None or version == self.version:
            return self.declaration
        return self.earlier.get(version)

    @property
    def arn(self) -> str:
        return f"arn:aws:codepipeline:{self.region}:{self.account_id}:{self.name}"


@dataclass(frozen=True)
class ArtifactLocation:
    """An artifact as CodePipeline hands it between actions: a zip in the artifact store."""

    name: str
    bucket: str
    key: str

    def describe(self) -> dict[str, Any]:
        """As ListActionExecutions shows it (``ArtifactDetail``)."""
        return {"name": self.name, "s3location": {"bucket": self.bucket, "key": self.key}}

    def describe_for_job(self) -> dict[str, Any]:
        """As a job's ``inputArtifacts`` / ``outputArtifacts`` carry it (``Artifact``)."""
        return {
            "name": self.name,
            "location": {
                "type": "S3",
                "s3Location": {"bucketName": self.bucket, "objectKey": self.key},
            },
        }


@dataclass
class ActionRun:
    """One execution of one action."""

    action_execution_id: str
    stage: str
    declaration: dict[str, Any]
    configuration: dict[str, str]  # after #{Namespace.Variable} resolution
    role_arn: str | None
    inputs: list[ArtifactLocation]
    status: str = "InProgress"  # InProgress | Abandoned | Succeeded | Failed
    summary: str | None = None
    error: dict[str, str] | None = None  # {"code", "message"}
    token: str | None = None  # approval token while the approval waits
    external_id: str | None = None
    outputs: list[ArtifactLocation] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    started: datetime.datetime = field(default_factory=now)
    updated: datetime.datetime = field(default_factory=now)

    @property
    def name(self) -> str:
        return str(self.declaration["name"])

    def finish(self, status: str, summary: str | None, error: dict[str, str] | None = None) -> None:
        self.status, self.summary, self.error, self.token = status, summary, error, None
        self.updated = now()


@dataclass
class Execution:
    """One pipeline execution; ``stop`` is set by StopPipelineExecution."""

    execution_id: str
    pipeline: Pipeline
    declaration: dict[str, Any]  # the definition this execution runs (its version's)
    trigger: dict[str, str]
    source_revisions: dict[str, str] = field(default_factory=dict)  # action -> commit id
    status: str = "InProgress"  # InProgress | Stopping | Stopped | Succeeded | Failed
    summary: str | None = None
    stage_status: dict[str, str] = field(default_factory=dict)
    actions: list[ActionRun] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)  # artifactRevisions
    variables: dict[str, dict[str, str]] = field(default_factory=dict)  # namespace -> values
    stop_reason: str | None = None
    abandon: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    started: datetime.datetime = field(default_factory=now)
    updated: datetime.datetime = field(default_factory=now)

    def finish(self, status: str, summary: str | None) -> None:
        self.status, self.summary, self.updated = status, summary, now()

    def summary_shape(self) -> dict[str, Any]:
        """A ``PipelineExecutionSummary``."""
        shape: dict[str, Any] = {
            "pipelineExecutionId": self.execution_id,
            "status": self.status,
            "startTime": self.started,
            "lastUpdateTime": self.updated,
            "sourceRevisions": [
                {
                    "actionName": r["actionName"],
                    "revisionId": r["revisionId"],
                    "revisionSummary": r["revisionSummary"],
                }
                for r in self.revisions
            ],
            "trigger": self.trigger,
            "executionMode": self.declaration.get("executionMode", "SUPERSEDED"),
        }
        if self.summary:
            shape["statusSummary"] = self.summary
        if self.stop_reason is not None:
            shape["stopTrigger"] = {"reason": self.stop_reason}
        return shape
