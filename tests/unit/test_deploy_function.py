"""The deploy function of account C, against moto's S3 and SageMaker.

CodePipeline's job-result calls are checked with botocore's Stubber (moto does not implement
them), so each test proves exactly which result the function reports, with parameters valid
for the real API.
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from harness.targets.sessions import new_session

LAMBDA_SOURCE = Path(__file__).resolve().parents[2] / "infra" / "lambda" / "deploy_endpoint.py"
BUCKET = "mlops-artifacts-111111111111-us-east-1"
ARTIFACT_KEY = "mlops/TrainingOu/abc123.zip"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
HOSTING_ROLE = "arn:aws:iam::333333333333:role/mlops-c-sagemaker-hosting"
JOB = "mlops-1624a1d1-3699-43f0-8e1e-6bafd7fde791"


def load_function() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_endpoint", LAMBDA_SOURCE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Pipeline:
    """A stubbed CodePipeline client that records the job results the function reports."""

    def __init__(self) -> None:
        self.client = boto3.client("codepipeline", region_name="us-east-1")
        self.stub = Stubber(self.client)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.client.meta.events.register("provide-client-params.codepipeline.*", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params))

    def expect(self, expected: str) -> None:
        method = {"PutJobSuccessResult": "put_job_success_result"}.get(
            expected.split("+")[0], "put_job_failure_result"
        )
        self.stub.add_response(method, {}, {"jobId": "job-1", **_EXPECTED[expected]})


_EXPECTED = {
    "PutJobSuccessResult": {"executionDetails": ANY},
    "PutJobFailureResult": {"failureDetails": ANY},
    "PutJobSuccessResult+token": {"continuationToken": ANY},
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, Pipeline]]:
    monkeypatch.setenv("ENDPOINT_NAME", "mlops-endpoint")
    monkeypatch.setenv("RESOURCE_PREFIX", "mlops")
    monkeypatch.setenv("HOSTING_ROLE_ARN", HOSTING_ROLE)
    monkeypatch.setenv("ENDPOINT_INSTANCE_TYPE", "ml.m5.large")
    monkeypatch.setenv("TRAINING_RESULT_FILE", "output.json")
    with mock_aws():
        # moto starts each mock without a default session; boto3 would make one with its own
        # botocore loader, reading every service model from disk again (a third of the time)
        boto3.DEFAULT_SESSION = new_session()
        function = load_function()
        pipeline = Pipeline()
        real_client = boto3.client

        def client(name: str, **kwargs: Any) -> Any:
            if name == "codepipeline":
                return pipeline.client
            return real_client(name, region_name="us-east-1", **kwargs)

        monkeypatch.setattr(function, "_client", client)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        with pipeline.stub:
            yield function, pipeline
            pipeline.stub.assert_no_pending_responses()


def put_training_output(files: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, json.dumps(content))
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=BUCKET, Key=ARTIFACT_KEY, Body=buffer.getvalue()
    )


def training_result(**overrides: str) -> dict[str, str]:
    result = {
        "TrainingJobName": JOB,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:222222222222:training-job/{JOB}",
        "ModelArtifacts": f"s3://{BUCKET}/models/{JOB}/output/model.tar.gz",
        "TrainingImage": IMAGE,
    }
    result.update(overrides)
    return result


def job_event(token: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "actionConfiguration": {"configuration": {"FunctionName": "mlops-deploy-endpoint"}},
        "inputArtifacts": [
            {
                "name": "TrainingOutput",
                "location": {
                    "type": "S3",
                    "s3Location": {"bucketName": BUCKET, "objectKey": ARTIFACT_KEY},
                },
            }
        ],
        "artifactCredentials": {
            "accessKeyId": "ASIAEXAMPLE",
            "secretAccessKey": "secret-never-logged",
            "sessionToken": "token",
        },
    }
    if token:
        data["continuationToken"] = token
    return {"CodePipeline.job": {"id": "job-1", "accountId": "111111111111", "data": data}}


def test_creates_model_config_and_endpoint_then_reports_success(aws, capsys) -> None:
    function, pipeline = aws
    put_training_output({"output.json": training_result()})
    pipeline.expect("PutJobSuccessResult")
    function.handler(job_event(), None)

    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    model = sagemaker.describe_model(ModelName=JOB)
    assert model["PrimaryContainer"]["ModelDataUrl"].endswith(f"{JOB}/output/model.tar.gz")
    assert model["PrimaryContainer"]["Image"] == IMAGE
    assert model["ExecutionRoleArn"] == HOSTING_ROLE
    endpoint = sagemaker.describe_endpoint(EndpointName="mlops-endpoint")
    assert endpoint["EndpointConfigName"] == JOB
    [(operation, params)] = pipeline.calls
    assert operation == "PutJobSuccessResult"
    assert "InService" in params["executionDetails"]["summary"]
    assert "secret-never-logged" not in capsys.readouterr().out


class RecordingUpdates:
    """moto's SageMaker with UpdateEndpoint (which moto lacks) recorded instead of applied."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.updates: list[dict[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def update_endpoint(self, **params: str) -> dict[str, str]:
        self.updates.append(params)
        return {"EndpointArn": "arn"}


def test_updates_an_existing_endpoint_to_the_new_model(aws, monkeypatch) -> None:
    function, pipeline = aws
    put_training_output({"output.json": training_result()})
    pipeline.expect("PutJobSuccessResult")
    function.handler(job_event(), None)

    sagemaker = RecordingUpdates(boto3.client("sagemaker", region_name="us-east-1"))
    real = function._client
    monkeypatch.setattr(function, "_client", lambda n: sagemaker if n == "sagemaker" else real(n))
    newer = "mlops-99999999-3699-43f0-8e1e-6bafd7fde791"
    put_training_output({"output.json": training_result(TrainingJobName=newer)})
    pipeline.expect("PutJobSuccessResult+token")  # still on the old config: poll again
    function.handler(job_event(), None)
    assert sagemaker.updates == [{"EndpointName": "mlops-endpoint", "EndpointConfigName": newer}]
    assert sagemaker.describe_model(ModelName=newer)["ModelName"] == newer
    assert json.loads(pipeline.calls[-1][1]["continuationToken"])["config"] == newer


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"other.json": {}}, "has no output.json"),
        ({"output.json": training_result(ModelArtifacts="")}, "lacks ModelArtifacts"),
        ({"output.json": training_result(ModelArtifacts="/tmp/m.tar.gz")}, "is not an S3 URI"),
        ({"output.json": training_result(TrainingJobName="other-job")}, "not started by the mlops"),
    ],
)
def test_bad_training_result_is_reported_as_failure(aws, files, reason) -> None:
    function, pipeline = aws
    put_training_output(files)
    pipeline.expect("PutJobFailureResult")
    function.handler(job_event(), None)
    [(operation, params)] = pipeline.calls
    assert operation == "PutJobFailureResult"
    assert reason in params["failureDetails"]["message"]
    assert params["failureDetails"]["type"] == "JobFailed"
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    assert sagemaker.list_endpoints()["Endpoints"] == []


def test_unreadable_artifact_is_reported_as_failure(aws) -> None:
    function, pipeline = aws  # nothing uploaded: GetObject fails with NoSuchKey
    pipeline.expect("PutJobFailureResult")
    function.handler(job_event(), None)
    [(_, params)] = pipeline.calls
    assert "NoSuchKey" in params["failureDetails"]["message"]


class EndpointStates:
    """Stands in for SageMaker's DescribeEndpoint while an endpoint is being created."""

    def __init__(self, *states: tuple[str, str]) -> None:
        self.states = list(states)

    def describe_endpoint(self, EndpointName: str) -> dict[str, str]:
        status, config = self.states.pop(0)
        reply = {
            "EndpointName": EndpointName,
            "EndpointStatus": status,
            "EndpointConfigName": config,
        }
        if status == "Failed":
            reply["FailureReason"] = "The role cannot decrypt the model artifact"
        return reply


@pytest.mark.parametrize(
    ("state", "expected", "detail"),
    [
        (("Creating", JOB), "PutJobSuccessResult+token", None),
        (("InService", "mlops-older-config"), "PutJobSuccessResult+token", None),
        (("InService", JOB), "PutJobSuccessResult", "InService"),
        (("Failed", JOB), "PutJobFailureResult", "cannot decrypt the model artifact"),
        (("RollingBack", JOB), "PutJobFailureResult", "is RollingBack"),
    ],
)
def test_continuation_polls_until_the_new_config_is_in_service(
    aws, monkeypatch, state, expected, detail
) -> None:
    function, pipeline = aws
    fake = EndpointStates(state)
    real = function._client
    monkeypatch.setattr(function, "_client", lambda n: fake if n == "sagemaker" else real(n))
    pipeline.expect(expected)
    token = json.dumps({"endpoint": "mlops-endpoint", "config": JOB})
    function.handler(job_event(token), None)
    [(operation, params)] = pipeline.calls
    assert operation == expected.split("+")[0]
    if expected.endswith("+token"):
        assert json.loads(params["continuationToken"]) == {
            "endpoint": "mlops-endpoint",
            "config": JOB,
        }
    elif operation == "PutJobSuccessResult":
        assert detail in params["executionDetails"]["summary"]
    else:
        assert detail in params["failureDetails"]["message"]
