"""Test doubles for the services the pipeline calls in B and C, registered on one test
target's gateway only: they answer after the gateway authorized the action role's call, and
the stand-in function reports its job result through the gateway as its own role."""

from __future__ import annotations

import io
import json
import threading
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import botocore.session

from harness.targets.local import LocalTarget
from harness.targets.local.codepipeline.json_api import dispatch
from harness.targets.local.gateway import ServedCall, WsgiApp

TRAINING_RESULT = {
    "TrainingJobName": "mlops-job-1",
    "ModelArtifacts": "s3://bucket/models/mlops-job-1/output/model.tar.gz",
    "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
}


class StepFunctionsStandIn:
    """StartExecution / DescribeExecution: each execution SUCCEEDS with a training result."""

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self._model = botocore.session.get_session().get_service_model("stepfunctions")

    def __call__(self, served: ServedCall) -> WsgiApp | None:
        return dispatch(
            served,
            self._model,
            {"StartExecution": self._start, "DescribeExecution": self._describe},
        )

    def _start(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        self.started.append(dict(params) | {"caller": served.credential.arn})
        arn = params["stateMachineArn"].replace(":stateMachine:", ":execution:")
        return {"executionArn": f"{arn}:{params['name']}", "startDate": 0}

    def _describe(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["executionArn"]
        return {
            "executionArn": arn,
            "stateMachineArn": arn.rsplit(":", 1)[0].replace(":execution:", ":stateMachine:"),
            "status": "SUCCEEDED",
            "startDate": 0,
            "output": json.dumps(TRAINING_RESULT),
        }


class DeployFunctionStandIn:
    """Lambda Invoke (Event) of the deploy function: in a thread, as the function's role, read
    the training result from the job's input artifact, then report the job. ``outcome`` is
    "continue-then-succeed" or "fail"."""

    def __init__(self, target: LocalTarget, role_arn: str) -> None:
        self.target = target
        self.role_arn = role_arn
        self.outcome = "continue-then-succeed"
        self.events: list[dict[str, Any]] = []
        self.errors: list[str] = []

    def __call__(self, served: ServedCall) -> WsgiApp | None:
        if served.call.operation != "Invoke":
            return None

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            event = json.loads(environ["wsgi.input"].read(length))
            self.events.append(event)
            threading.Thread(target=self._handle, args=(event,), daemon=True).start()
            start_response("202 Accepted", [("Content-Length", "0")])
            return [b""]

        return app

    def _handle(self, event: dict[str, Any]) -> None:
        job = event["CodePipeline.job"]
        session = self.target.session_as_service(self.role_arn, "lambda.amazonaws.com")
        codepipeline = self.target.client("codepipeline", session)
        try:
            location = job["data"]["inputArtifacts"][0]["location"]["s3Location"]
            s3 = self.target.client("s3", session)
            body = s3.get_object(Bucket=location["bucketName"], Key=location["objectKey"])
            with zipfile.ZipFile(io.BytesIO(body["Body"].read())) as archive:
                result = json.loads(archive.read("output.json"))
            if self.outcome == "fail":
                raise RuntimeError(f"endpoint for {result['TrainingJobName']} is Failed")
        except Exception as error:
            self.errors.append(str(error))
            codepipeline.put_job_failure_result(
                jobId=job["id"],
                failureDetails={"type": "JobFailed", "message": f"DeployError: {error}"},
            )
            return
        if "continuationToken" not in job["data"]:
            token = json.dumps({"step": str(uuid.uuid4())})
            codepipeline.put_job_success_result(jobId=job["id"], continuationToken=token)
        else:
            codepipeline.put_job_success_result(
                jobId=job["id"],
                executionDetails={"summary": "endpoint InService"},
                outputVariables={"EndpointConfigName": result["TrainingJobName"]},
            )
