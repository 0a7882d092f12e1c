"""The CodePipeline API of the local target (a ``LocalService`` for the gateway): every call
after the gateway authorized it, answered from the ``PipelineStore``."""

from __future__ import annotations

from typing import Any

from harness import service_models
from harness.targets.local.codepipeline.json_api import Handler, ServiceError, dispatch
from harness.targets.local.codepipeline.model import ActionRun, Execution, Pipeline, now
from harness.targets.local.codepipeline.service import PipelineStore
from harness.targets.local.gateway import ServedCall, WsgiApp


def _where(served: ServedCall) -> tuple[str, str]:
    return served.credential.account_id, served.call.region


class CodePipelineApi:
    """Serves the pipeline, execution, approval and job operations; others are refused by
    moto (which has no CodePipeline runtime)."""

    def __init__(self, store: PipelineStore) -> None:
        self.store = store
        self._handlers: dict[str, Handler] = {
            "CreatePipeline": self._create_pipeline,
            "UpdatePipeline": self._update_pipeline,
            "GetPipeline": self._get_pipeline,
            "DeletePipeline": self._delete_pipeline,
            "ListPipelines": self._list_pipelines,
            "StartPipelineExecution": self._start_pipeline_execution,
            "StopPipelineExecution": self._stop_pipeline_execution,
            "GetPipelineExecution": self._get_pipeline_execution,
            "ListPipelineExecutions": self._list_pipeline_executions,
            "GetPipelineState": self._get_pipeline_state,
            "ListActionExecutions": self._list_action_executions,
            "PutApprovalResult": self._put_approval_result,
            "PutJobSuccessResult": self._put_job_success_result,
            "PutJobFailureResult": self._put_job_failure_result,
        }

    def __call__(self, served: ServedCall) -> WsgiApp | None:
        return dispatch(served, service_models.service_model("codepipeline"), self._handlers)

    # pipelines -----------------------------------------------------------------------------
    def _create_pipeline(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        pipeline = self.store.create(*_where(served), params["pipeline"])
        # CodePipeline runs a new pipeline once, as soon as it is created.
        self.store.start(*_where(served), pipeline.name, _trigger("CreatePipeline", served))
        return {"pipeline": pipeline.declaration, "tags": params.get("tags", [])}

    def _update_pipeline(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        return {"pipeline": self.store.update(*_where(served), params["pipeline"]).declaration}

    def _get_pipeline(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        pipeline = self.store.get(*_where(served), params["name"])
        declaration = pipeline.at_version(params.get("version"))
        if declaration is None:
            raise ServiceError(
                "PipelineVersionNotFoundException",
                f"Pipeline {pipeline.name} has no version {params['version']}",
            )
        return {
            "pipeline": declaration,
            "metadata": {
                "pipelineArn": pipeline.arn,
                "created": pipeline.created,
                "updated": pipeline.updated,
            },
        }

    def _delete_pipeline(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        self.store.delete(*_where(served), params["name"])
        return {}

    def _list_pipelines(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        return {"pipelines": [_summary(p) for p in self.store.pipelines(*_where(served))]}

    # executions ----------------------------------------------------------------------------
    def _start_pipeline_execution(
        self, served: ServedCall, params: dict[str, Any]
    ) -> dict[str, Any]:
        trigger = _trigger("StartPipelineExecution", served)
        pinned = {}
        for revision in params.get("sourceRevisions", []):
            if revision["revisionType"] != "COMMIT_ID":
                raise ServiceError(
                    "ValidationException",
                    f"revisionType {revision['revisionType']} is not supported for CodeCommit",
                )
            pinned[revision["actionName"]] = revision["revisionValue"]
        execution = self.store.start(*_where(served), params["name"], trigger, pinned)
        return {"pipelineExecutionId": execution.execution_id}

    def _stop_pipeline_execution(
        self, served: ServedCall, params: dict[str, Any]
    ) -> dict[str, Any]:
        execution = self._execution(served, params)
        self.store.stop(execution, bool(params.get("abandon")), params.get("reason"))
        return {"pipelineExecutionId": execution.execution_id}

    def _execution(self, served: ServedCall, params: dict[str, Any]) -> Execution:
        return self.store.execution(
            *_where(served), params["pipelineName"], params["pipelineExecutionId"]
        )

    def _get_pipeline_execution(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(served, params)
        shape: dict[str, Any] = {
            "pipelineName": execution.pipeline.name,
            "pipelineVersion": execution.declaration["version"],
            "pipelineExecutionId": execution.execution_id,
            "status": execution.status,
            "artifactRevisions": [
                {k: v for k, v in r.items() if k != "actionName"} | {"created": execution.started}
                for r in execution.revisions
            ],
            "trigger": execution.trigger,
            "executionMode": execution.declaration.get("executionMode", "SUPERSEDED"),
        }
        if execution.summary:
            shape["statusSummary"] = execution.summary
        return {"pipelineExecution": shape}

    def _list_pipeline_executions(
        self, served: ServedCall, params: dict[str, Any]
    ) -> dict[str, Any]:
        executions = self.store.executions(*_where(served), params["pipelineName"])
        limit = int(params.get("maxResults") or 100)
        return {"pipelineExecutionSummaries": [e.summary_shape() for e in executions[:limit]]}

    def _get_pipeline_state(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        pipeline = self.store.get(*_where(served), params["name"])
        executions = self.store.executions(*_where(served), params["name"])
        stages = []
        for stage in pipeline.declaration["stages"]:
            latest = next((e for e in executions if stage["name"] in e.stage_status), None)
            runs = {r.name: r for r in latest.actions if r.stage == stage["name"]} if latest else {}
            state: dict[str, Any] = {
                "stageName": stage["name"],
                "inboundTransitionState": {"enabled": True},
                "actionStates": [
                    _action_state(action["name"], runs.get(action["name"]))
                    for action in stage["actions"]
                ],
            }
            if latest is not None:
                state["latestExecution"] = {
                    "pipelineExecutionId": latest.execution_id,
                    "status": latest.stage_status[stage["name"]],
                }
            stages.append(state)
        return {
            "pipelineName": pipeline.name,
            "pipelineVersion": pipeline.version,
            "stageStates": stages,
            "created": pipeline.created,
            "updated": pipeline.updated,
        }

    def _list_action_executions(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        wanted = (params.get("filter") or {}).get("pipelineExecutionId")
        details = [
            _action_execution(execution, run)
            for execution in self.store.executions(*_where(served), params["pipelineName"])
            if wanted in (None, execution.execution_id)
            for run in reversed(execution.actions)
        ]
        limit = int(params.get("maxResults") or 100)
        return {"actionExecutionDetails": details[:limit]}

    # approvals and jobs --------------------------------------------------------------------
    def _put_approval_result(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        self.store.get(*_where(served), params["pipelineName"])
        where = (params["pipelineName"], params["stageName"], params["actionName"])
        result = dict(params["result"]) | {"by": served.credential.arn}
        self.store.waits.approve(params["token"], where, result)
        return {"approvedAt": now()}

    def _put_job_success_result(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        details = params.get("executionDetails") or {}
        result = {
            "outcome": "success",
            "continuationToken": params.get("continuationToken"),
            "summary": details.get("summary"),
            "externalExecutionId": details.get("externalExecutionId"),
            "outputVariables": params.get("outputVariables"),
        }
        self.store.waits.report(params["jobId"], served.credential.account_id, result)
        return {}

    def _put_job_failure_result(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        failure = params["failureDetails"]
        result = {"outcome": "failure", "type": failure["type"], "message": failure["message"]}
        self.store.waits.report(params["jobId"], served.credential.account_id, result)
        return {}


def _trigger(kind: str, served: ServedCall) -> dict[str, str]:
    return {"triggerType": kind, "triggerDetail": served.credential.arn}


def _summary(pipeline: Pipeline) -> dict[str, Any]:
    declaration = pipeline.declaration
    return {
        "name": pipeline.name,
        "version": pipeline.version,
        "pipelineType": declaration.get("pipelineType", "V1"),
        "executionMode": declaration.get("executionMode", "SUPERSEDED"),
        "created": pipeline.created,
        "updated": pipeline.updated,
    }


def _action_state(name: str, run: ActionRun | None) -> dict[str, Any]:
    state: dict[str, Any] = {"actionName": name}
    if run is None:
        return state
    latest: dict[str, Any] = {
        "actionExecutionId": run.action_execution_id,
        "status": run.status,
        "lastStatusChange": run.updated,
    }
    for field, value in (
        ("summary", run.summary),
        ("token", run.token),
        ("externalExecutionId", run.external_id),
        ("errorDetails", run.error),
    ):
        if value:
            latest[field] = value
    state["latestExecution"] = latest
    return state


def _action_execution(execution: Execution, run: ActionRun) -> dict[str, Any]:
    """An ``ActionExecutionDetail``."""
    declaration = run.declaration
    action_input: dict[str, Any] = {
        "actionTypeId": declaration["actionTypeId"],
        "configuration": declaration.get("configuration", {}),
        "resolvedConfiguration": run.configuration,
        "inputArtifacts": [a.describe() for a in run.inputs],
    }
    if run.role_arn:
        action_input["roleArn"] = run.role_arn
    if declaration.get("namespace"):
        action_input["namespace"] = declaration["namespace"]
    result: dict[str, Any] = {}
    if run.external_id:
        result["externalExecutionId"] = run.external_id
    if run.summary:
        result["externalExecutionSummary"] = run.summary
    if run.error:
        result["errorDetails"] = run.error
    return {
        "pipelineExecutionId": execution.execution_id,
        "actionExecutionId": run.action_execution_id,
        "pipelineVersion": execution.declaration["version"],
        "stageName": run.stage,
        "actionName": run.name,
        "startTime": run.started,
        "lastUpdateTime": run.updated,
        "status": run.status,
        "input": action_input,
        "output": {
            "outputArtifacts": [a.describe() for a in run.outputs],
            "executionResult": result,
            "outputVariables": run.variables,
        },
    }
