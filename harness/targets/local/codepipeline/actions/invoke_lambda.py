"""Invoke / Lambda: invoke the function asynchronously with the CodePipeline job event, then
wait for the function's PutJobSuccessResult / PutJobFailureResult; a success with a
continuation token invokes it again with that token."""

from __future__ import annotations

import json
from typing import Any

from harness.deadlines import bound, poll
from harness.targets.local.codepipeline.actions.base import ActionContext, ActionOutcome
from harness.targets.local.codepipeline.waits import ActionFailed


def run(context: ActionContext) -> ActionOutcome:
    function = context.configuration["FunctionName"]
    timeout = context.settings.get("job_timeout_seconds", bound("lambda_job"))
    pipeline_account = context.execution.pipeline.account_id
    lambda_client = context.client("lambda")
    continuation: str | None = None
    # Each round is bounded by the job wait; the rounds by the action's bound as a whole.
    for _ in poll(f"function {function} to finish its continuations", timeout, interval_s=0):
        job = context.waits.job(
            context.execution, context.run, {pipeline_account, context.account_id}
        )
        event = {"CodePipeline.job": _job(context, job.job_id, continuation)}
        lambda_client.invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps(event).encode()
        )
        result = job.wait(timeout, f"job {job.job_id} of function {function}")
        if result["outcome"] == "failure":
            raise ActionFailed(result.get("type", "JobFailed"), result["message"])
        continuation = result.get("continuationToken")
        if continuation is None:
            return ActionOutcome(
                summary=result.get("summary") or f"Function {function} succeeded",
                variables=result.get("outputVariables") or {},
                external_id=result.get("externalExecutionId"),
            )
    raise AssertionError("poll ends by raising DeadlineExceeded")


def _job(context: ActionContext, job_id: str, continuation: str | None) -> dict[str, Any]:
    """The job CodePipeline hands a Lambda function, with the action role's credentials for
    the artifacts."""
    credentials = context.session.get_credentials().get_frozen_credentials()
    data: dict[str, Any] = {
        "actionConfiguration": {"configuration": dict(context.configuration)},
        "inputArtifacts": [a.describe_for_job() for a in context.run.inputs],
        "outputArtifacts": [a.describe_for_job() for a in context.outputs],
        "artifactCredentials": {
            "accessKeyId": credentials.access_key,
            "secretAccessKey": credentials.secret_key,
            "sessionToken": credentials.token,
        },
    }
    if context.store.key_id:
        data["encryptionKey"] = {"id": context.store.key_id, "type": "KMS"}
    if continuation is not None:
        data["continuationToken"] = continuation
    return {"id": job_id, "accountId": context.execution.pipeline.account_id, "data": data}
