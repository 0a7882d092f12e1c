"""Deploy function of account C: put the trained model behind the production endpoint.

CodePipeline invokes it, after the manual approval, with the training result (``output.json``
of the Step Functions action's output artifact, in A's bucket). The first call creates the
model and an endpoint configuration named after the training job and creates or updates the
endpoint, then hands CodePipeline a continuation token instead of blocking while SageMaker
works; each later call polls the endpoint. Success is reported only once the endpoint is
InService with the new configuration; a failed endpoint or any error is reported with
PutJobFailureResult and its reason, never as success. The event is never logged: it carries
CodePipeline's temporary artifact credentials.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from typing import Any

import boto3
from botocore.exceptions import ClientError

# Endpoint states in which SageMaker is still working: poll again later.
IN_PROGRESS = {"Creating", "Updating", "SystemUpdating"}
REQUIRED_RESULT_FIELDS = ("TrainingJobName", "ModelArtifacts", "TrainingImage")
MAX_MESSAGE = 5000  # PutJobFailureResult's limit on failureDetails.message

_client = boto3.client  # replaced in unit tests


class DeployError(Exception):
    """The deployment cannot go on; the message is what the pipeline shows."""


def handler(event: dict[str, Any], context: Any) -> None:
    """Lambda entry point: report exactly one job result for this invocation."""
    job = event["CodePipeline.job"]
    pipeline = _client("codepipeline")
    try:
        outcome = advance(job["data"])
    except Exception as exc:  # any failure must reach the pipeline, not hang it
        message = f"{type(exc).__name__}: {exc}"
        print(f"job {job['id']} failed: {message}")
        pipeline.put_job_failure_result(
            jobId=job["id"],
            failureDetails={"type": "JobFailed", "message": message[:MAX_MESSAGE]},
        )
        return
    print(f"job {job['id']}: {outcome['summary']}")
    if "continuationToken" in outcome:
        pipeline.put_job_success_result(
            jobId=job["id"], continuationToken=outcome["continuationToken"]
        )
    else:
        pipeline.put_job_success_result(
            jobId=job["id"], executionDetails={"summary": outcome["summary"][:2048]}
        )


def advance(data: dict[str, Any]) -> dict[str, str]:
    """Start the deployment, or check on the one named by the continuation token."""
    token = data.get("continuationToken")
    state = json.loads(token) if token else start(data)
    sagemaker = _client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=state["endpoint"])
    status = endpoint["EndpointStatus"]
    current = endpoint.get("EndpointConfigName")
    if status == "InService" and current == state["config"]:
        return {"summary": f"endpoint {state['endpoint']} InService with {state['config']}"}
    if status in IN_PROGRESS or (status == "InService" and current != state["config"]):
        return {
            "summary": f"endpoint {state['endpoint']} is {status}; checking again",
            "continuationToken": json.dumps(state),
        }
    reason = endpoint.get("FailureReason", "no reason given")
    raise DeployError(f"endpoint {state['endpoint']} is {status}: {reason}")


def start(data: dict[str, Any]) -> dict[str, str]:
    """Create model and endpoint config from the training result; create or update the endpoint."""
    result = read_training_result(data)
    name = result["TrainingJobName"]
    prefix = os.environ["RESOURCE_PREFIX"]
    if not name.startswith(f"{prefix}-"):
        raise DeployError(f"training job {name!r} was not started by the {prefix} pipeline")
    endpoint = os.environ["ENDPOINT_NAME"]
    sagemaker = _client("sagemaker")
    tags = [{"Key": "pipeline", "Value": prefix}, {"Key": "training-job", "Value": name}]
    if not _exists(sagemaker.describe_model, ModelName=name):
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer={
                "Image": result["TrainingImage"],
                "ModelDataUrl": result["ModelArtifacts"],
            },
            ExecutionRoleArn=os.environ["HOSTING_ROLE_ARN"],
            EnableNetworkIsolation=True,
            Tags=tags,
        )
    if not _exists(sagemaker.describe_endpoint_config, EndpointConfigName=name):
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": name,
                    "InitialInstanceCount": 1,
                    "InstanceType": os.environ["ENDPOINT_INSTANCE_TYPE"],
                    "InitialVariantWeight": 1.0,
                }
            ],
            Tags=tags,
        )
    if _exists(sagemaker.describe_endpoint, EndpointName=endpoint):
        sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=name)
    else:
        sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=name, Tags=tags)
    return {"endpoint": endpoint, "config": name}


def read_training_result(data: dict[str, Any]) -> dict[str, str]:
    """Read the Step Functions output from the input artifact (a zip in A's bucket)."""
    artifacts = data.get("inputArtifacts") or []
    if len(artifacts) != 1:
        raise DeployError(
            f"expected one input artifact (the training output), got {len(artifacts)}"
        )
    location = artifacts[0]["location"]["s3Location"]
    body = _client("s3").get_object(Bucket=location["bucketName"], Key=location["objectKey"])
    filename = os.environ["TRAINING_RESULT_FILE"]
    with zipfile.ZipFile(io.BytesIO(body["Body"].read())) as archive:
        if filename not in archive.namelist():
            raise DeployError(f"input artifact {artifacts[0]['name']} has no {filename}")
        result = json.loads(archive.read(filename))
    missing = [f for f in REQUIRED_RESULT_FIELDS if not result.get(f)]
    if missing:
        raise DeployError(f"{filename} lacks {', '.join(missing)}: training did not finish")
    if not result["ModelArtifacts"].startswith("s3://"):
        raise DeployError(f"model artifact {result['ModelArtifacts']!r} is not an S3 URI")
    return result


def _exists(describe: Any, **name: str) -> bool:
    """True if the SageMaker resource exists.

    SageMaker reports a missing resource as a ValidationException "Could not find ..."; any
    other error (a denied call, a malformed name) must surface, not pass for "absent".
    """
    try:
        describe(**name)
    except ClientError as exc:
        error = exc.response["Error"]
        if error["Code"] == "ValidationException" and "Could not find" in error.get("Message", ""):
            return False
        raise
    return True
