"""The project's pipeline on a local target with A, B and C deployed: created from the
rendered ``infra/pipeline/pipeline.json``, the source bundle pushed with CreateCommit, and
stand-ins for Step Functions and the deploy function (see ``stand_ins``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient

from harness.render import Wiring, render_pipeline, render_source_bundle
from harness.targets.local import LocalTarget
from tests.unit.targets.conftest import PREFIX
from tests.unit.targets.pipeline.stand_ins import DeployFunctionStandIn, StepFunctionsStandIn

FINAL = {"Succeeded", "Failed", "Stopped", "Superseded"}
POLL_S = 0.05
"""Between two looks at an execution: its actions take tens of milliseconds on the target."""


@dataclass
class Project:
    target: LocalTarget
    wiring: Wiring
    outputs: dict[str, dict[str, str]]
    stepfunctions: StepFunctionsStandIn
    function: DeployFunctionStandIn
    source: Path
    clients: dict[tuple[str, str], BaseClient] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.wiring.Prefix

    def client(self, service: str, account: str = "shared-services") -> BaseClient:
        """One client per service and account: making one costs more than most calls."""
        if (service, account) not in self.clients:
            self.clients[service, account] = self.target.client(
                service, self.target.session(account)
            )
        return self.clients[service, account]

    def push(self, message: str, change: str = "") -> str:
        """Commit the rendered source bundle (plus a CHANGES file) to main; the commit id."""
        codecommit = self.client("codecommit")
        repository = self.wiring.RepositoryName
        try:
            parent = codecommit.get_branch(repositoryName=repository, branchName="main")
            parent_id: dict[str, str] = {"parentCommitId": parent["branch"]["commitId"]}
        except codecommit.exceptions.BranchDoesNotExistException:
            parent_id = {}
        files = [{"filePath": p.name, "fileContent": p.read_bytes()} for p in self.source_files()]
        files.append({"filePath": "CHANGES", "fileContent": (change or message).encode()})
        commit = codecommit.create_commit(
            repositoryName=repository,
            branchName="main",
            commitMessage=message,
            authorName="test",
            email="test@example.com",
            putFiles=files,
            **parent_id,
        )
        return str(commit["commitId"])

    def source_files(self) -> list[Path]:
        return sorted(p for p in self.source.iterdir() if p.is_file())

    def execution_of(self, commit_id: str, timeout: float = 30.0) -> str:
        """The execution whose Source read ``commit_id``."""
        codepipeline = self.client("codepipeline")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for summary in codepipeline.list_pipeline_executions(pipelineName=self.name)[
                "pipelineExecutionSummaries"
            ]:
                revisions = [r["revisionId"] for r in summary.get("sourceRevisions", [])]
                if commit_id in revisions:
                    return str(summary["pipelineExecutionId"])
            time.sleep(POLL_S)
        raise AssertionError(f"no execution read commit {commit_id}")

    def wait_until(self, execution_id: str, done: Any, timeout: float = 60.0) -> dict[str, Any]:
        """Poll GetPipelineExecution until ``done(execution)``; the execution."""
        codepipeline = self.client("codepipeline")
        deadline = time.monotonic() + timeout
        while True:
            execution = codepipeline.get_pipeline_execution(
                pipelineName=self.name, pipelineExecutionId=execution_id
            )["pipelineExecution"]
            if done(execution):
                return dict(execution)
            if time.monotonic() > deadline:
                raise AssertionError(f"execution still {execution['status']}: {execution}")
            time.sleep(POLL_S)

    def finished(self, execution_id: str) -> dict[str, Any]:
        return self.wait_until(execution_id, lambda e: e["status"] in FINAL)

    def action_state(self, stage: str, action: str) -> dict[str, Any]:
        state = self.client("codepipeline").get_pipeline_state(name=self.name)
        found = next(s for s in state["stageStates"] if s["stageName"] == stage)
        return dict(next(a for a in found["actionStates"] if a["actionName"] == action))

    def answer_approval(self, token: str, status: str, summary: str) -> None:
        """Answer the waiting approval as a reviewer would."""
        self.client("codepipeline").put_approval_result(
            pipelineName=self.name,
            stageName="Approve",
            actionName="ApproveProductionDeploy",
            result={"summary": summary, "status": status},
            token=token,
        )

    def waiting_approval(self, execution_id: str, timeout: float = 60.0) -> str:
        """The approval token, once the execution's approval waits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            latest = self.action_state("Approve", "ApproveProductionDeploy").get(
                "latestExecution", {}
            )
            if latest.get("token") and latest.get("status") == "InProgress":
                return str(latest["token"])
            execution = self.client("codepipeline").get_pipeline_execution(
                pipelineName=self.name, pipelineExecutionId=execution_id
            )["pipelineExecution"]
            if execution["status"] in FINAL:
                raise AssertionError(f"execution ended before its approval: {execution}")
            time.sleep(POLL_S)
        raise AssertionError("the approval never waited")

    def actions(self, execution_id: str) -> dict[str, dict[str, Any]]:
        details = self.client("codepipeline").list_action_executions(
            pipelineName=self.name, filter={"pipelineExecutionId": execution_id}
        )["actionExecutionDetails"]
        return {d["actionName"]: d for d in details}


@pytest.fixture(scope="module")
def project(
    target: LocalTarget,
    outputs: dict[str, dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Project:
    wiring = Wiring.from_outputs({"Prefix": PREFIX, "Region": target.region}, outputs)
    source = tmp_path_factory.mktemp("source")
    render_source_bundle(wiring, source)
    assert target.gateway is not None
    stepfunctions = StepFunctionsStandIn()
    function_role = (
        f"arn:aws:iam::{target.account_id('production')}:role/{PREFIX}-c-deploy-function"
    )
    function = DeployFunctionStandIn(target, function_role)
    target.gateway.services["stepfunctions"] = stepfunctions
    target.gateway.services["lambda"] = function
    project = Project(target, wiring, outputs, stepfunctions, function, source)
    project.client("codepipeline").create_pipeline(**render_pipeline(wiring))
    return project
