"""Run one pipeline execution: the stored definition, stage by stage, as the pipeline's role.

The pipeline role is assumed as ``codepipeline.amazonaws.com`` (its trust policy decides); an
action with a ``roleArn`` runs as that role, assumed from the pipeline role's session by a
real ``sts:AssumeRole`` through the gateway, so both the role's trust policy and the pipeline
role's identity policy decide. Actions of one stage run by ``runOrder``, those sharing a
``runOrder`` in parallel; the first failure fails the stage and the execution. Each stage is
entered as the pipeline's execution mode allows (see ``stage_locks``).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.targets.local.codecommit import CodeCommitService
from harness.targets.local.codepipeline.actions import ACTIONS
from harness.targets.local.codepipeline.actions.base import ActionContext
from harness.targets.local.codepipeline.artifacts import ArtifactStore
from harness.targets.local.codepipeline.model import ActionRun, ArtifactLocation, Execution
from harness.targets.local.codepipeline.stage_locks import StageLocks
from harness.targets.local.codepipeline.variables import resolve
from harness.targets.local.codepipeline.waits import ActionAbandoned, ActionFailed, Waits
from harness.targets.sessions import session_from

PIPELINE_SERVICE = "codepipeline.amazonaws.com"


class ServiceSessions(Protocol):
    """What the runner needs from the target: sessions as AWS services obtain them, and
    clients pointed at the target."""

    def session_as_service(
        self, role_arn: str, service: str, session_name: str | None = None
    ) -> boto3.Session: ...

    def client(self, service: str, session: boto3.Session) -> BaseClient: ...


class Runner:
    """Executes executions; ``settings`` tune waits (``job_timeout_seconds``)."""

    def __init__(
        self,
        sessions: ServiceSessions,
        codecommit: CodeCommitService,
        waits: Waits,
        settings: dict[str, float] | None = None,
    ) -> None:
        self.sessions = sessions
        self.codecommit = codecommit
        self.waits = waits
        self.locks = StageLocks()
        self.settings = settings or {}

    def run(self, execution: Execution) -> None:
        """Run to the end (Succeeded, Failed or Stopped); never raises."""
        declaration = execution.declaration
        try:
            session = self.sessions.session_as_service(
                declaration["roleArn"], PIPELINE_SERVICE, execution.execution_id
            )
        except Exception as denied:  # the trust policy refused CodePipeline
            execution.finish(
                "Failed",
                f"CodePipeline cannot assume the pipeline role {declaration['roleArn']}: {denied}",
            )
            return
        artifacts: dict[str, ArtifactLocation] = {}
        for stage in declaration["stages"]:
            name = stage["name"]
            if not self.locks.enter(execution, name):
                if execution.status != "Superseded":
                    execution.finish("Stopped", execution.stop_reason)
                return
            execution.stage_status[name] = "InProgress"
            try:
                failure = self._run_stage(execution, stage, session, artifacts)
            finally:
                self.locks.leave(execution, name)
            if failure is None:
                execution.stage_status[name] = "Succeeded"
            elif failure.status == "Abandoned":
                execution.stage_status[name] = "Stopped"
                execution.finish("Stopped", execution.stop_reason)
                return
            else:
                execution.stage_status[name] = "Failed"
                execution.finish("Failed", _failure_summary(name, failure))
                return
        execution.finish("Succeeded", None)

    def _run_stage(
        self,
        execution: Execution,
        stage: dict[str, Any],
        session: boto3.Session,
        artifacts: dict[str, ArtifactLocation],
    ) -> ActionRun | None:
        """Run the stage's actions; the first failed (or abandoned) run, or None."""
        ordered = sorted(stage["actions"], key=_run_order)
        for _, group in itertools.groupby(ordered, key=_run_order):
            declarations = list(group)
            with ThreadPoolExecutor(max_workers=len(declarations)) as pool:
                runs = list(
                    pool.map(
                        lambda action: self._run_action(
                            execution, stage["name"], action, session, artifacts
                        ),
                        declarations,
                    )
                )
            failed = next((r for r in runs if r.status != "Succeeded"), None)
            if failed is not None:
                return failed
        return None

    def _run_action(
        self,
        execution: Execution,
        stage: str,
        declaration: dict[str, Any],
        pipeline_session: boto3.Session,
        artifacts: dict[str, ArtifactLocation],
    ) -> ActionRun:
        role_arn = declaration.get("roleArn")
        run = ActionRun(
            action_execution_id=str(uuid.uuid4()),
            stage=stage,
            declaration=declaration,
            configuration=dict(declaration.get("configuration", {})),
            role_arn=role_arn,
            inputs=[],
        )
        execution.actions.append(run)
        try:
            context = self._context(execution, run, pipeline_session, artifacts)
            type_id = declaration["actionTypeId"]
            key = (type_id["category"], type_id["owner"], type_id["provider"])
            action = ACTIONS.get(key)
            if action is None:
                raise ActionFailed("JobFailed", f"action type {'/'.join(key)} is not supported")
            outcome = action(context)
            s3 = context.client("s3")
            for location in context.outputs:
                if location.name in outcome.files:
                    context.store.write(s3, location, outcome.files[location.name])
                artifacts[location.name] = location
        except ActionAbandoned as abandoned:
            run.finish("Abandoned", f"Abandoned while waiting for {abandoned}")
            return run
        except ActionFailed as failed:
            run.finish("Failed", failed.message, {"code": failed.code, "message": failed.message})
            return run
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "JobFailed")
            message = f"{code}: {error.response.get('Error', {}).get('Message', error)}"
            run.finish("Failed", message, {"code": code, "message": message})
            return run
        except Exception as error:  # any other failure fails the action, never the runner
            message = f"{type(error).__name__}: {error}"
            run.finish("Failed", message, {"code": "JobFailed", "message": message})
            return run
        run.outputs = context.outputs
        run.variables = outcome.variables
        run.external_id = outcome.external_id or run.external_id
        if declaration.get("namespace"):
            execution.variables[declaration["namespace"]] = dict(outcome.variables)
        if outcome.revision is not None:
            execution.revisions.append(outcome.revision)
        run.finish("Succeeded", outcome.summary)
        return run

    def _context(
        self,
        execution: Execution,
        run: ActionRun,
        pipeline_session: boto3.Session,
        artifacts: dict[str, ArtifactLocation],
    ) -> ActionContext:
        declaration = run.declaration
        run.configuration = resolve(run.configuration, self._namespaces(execution))
        for artifact in declaration.get("inputArtifacts", []):
            if artifact["name"] not in artifacts:
                raise ActionFailed("JobFailed", f"input artifact {artifact['name']} was not made")
            run.inputs.append(artifacts[artifact["name"]])
        session = pipeline_session
        account_id = execution.pipeline.account_id
        if run.role_arn:
            session = self._assume(pipeline_session, run.role_arn, execution.execution_id)
            account_id = run.role_arn.split(":")[4]
        store = ArtifactStore.of(execution.declaration)
        return ActionContext(
            execution=execution,
            run=run,
            session=session,
            account_id=account_id,
            client=_client_cache(self.sessions, session),
            store=store,
            outputs=[store.location(a["name"]) for a in declaration.get("outputArtifacts", [])],
            waits=self.waits,
            codecommit=self.codecommit,
            settings=self.settings,
        )

    @staticmethod
    def _namespaces(execution: Execution) -> dict[str, dict[str, str]]:
        built_in = {
            "PipelineExecutionId": execution.execution_id,
            "PipelineName": execution.pipeline.name,
        }
        return {"codepipeline": built_in, **execution.variables}

    def _assume(self, session: boto3.Session, role_arn: str, session_name: str) -> boto3.Session:
        """``role_arn`` assumed by the pipeline role's session through the gateway."""
        sts = self.sessions.client("sts", session)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])[
            "Credentials"
        ]
        return session_from(credentials, session.region_name)


def _client_cache(sessions: ServiceSessions, session: boto3.Session) -> Callable[[str], BaseClient]:
    cache: dict[str, BaseClient] = {}

    def client(service: str) -> BaseClient:
        if service not in cache:
            cache[service] = sessions.client(service, session)
        return cache[service]

    return client


def _run_order(action: dict[str, Any]) -> int:
    return int(action.get("runOrder", 1))


def _failure_summary(stage: str, run: ActionRun) -> str:
    role = f" as {run.role_arn}" if run.role_arn else ""
    return f"Stage {stage} failed: action {run.name}{role}: {run.summary}"
