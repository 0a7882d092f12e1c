"""What an action implementation gets from the runner, and what it gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.client import BaseClient

from harness.targets.local.codecommit import CodeCommitService
from harness.targets.local.codepipeline.artifacts import ArtifactStore
from harness.targets.local.codepipeline.model import ActionRun, ArtifactLocation, Execution
from harness.targets.local.codepipeline.waits import ActionFailed, Waits


@dataclass
class ActionContext:
    """One action execution: its run record, and clients as the role it runs as."""

    execution: Execution
    run: ActionRun
    session: boto3.Session
    account_id: str  # the account of the role the action runs as
    client: Callable[[str], BaseClient]
    store: ArtifactStore
    outputs: list[ArtifactLocation]  # where this run's output artifacts go
    waits: Waits
    codecommit: CodeCommitService
    settings: dict[str, float]  # e.g. job_timeout_seconds

    @property
    def configuration(self) -> dict[str, str]:
        return self.run.configuration

    def input_file(self, reference: str) -> bytes:
        """``Artifact::path`` (or ``path`` in the only input artifact), read as this role."""
        artifact, separator, path = reference.partition("::")
        if not separator:
            if len(self.run.inputs) != 1:
                raise ActionFailed("JobFailed", f"{reference}: name the input artifact")
            artifact, path = self.run.inputs[0].name, reference
        location = next((a for a in self.run.inputs if a.name == artifact), None)
        if location is None:
            raise ActionFailed("JobFailed", f"{reference}: {artifact} is not an input artifact")
        files = self.store.read(self.client("s3"), location)
        if path not in files:
            raise ActionFailed("JobFailed", f"{reference}: no file {path} in {artifact}")
        return files[path]


@dataclass
class ActionOutcome:
    """A finished action: files of each output artifact the runner writes, as the action's
    role; namespace variables; the source revision a Source action read."""

    summary: str
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    external_id: str | None = None
    revision: dict[str, Any] | None = None


Action = Callable[[ActionContext], ActionOutcome]
