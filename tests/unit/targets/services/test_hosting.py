"""Endpoints and functions in C: the trained model served for real, the deploy function run
for real, each as its own role."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.runtimes.endpoint.hosting import HostedEndpoint
from harness.targets.local import LocalTarget
from harness.targets.local.faults import Fault
from tests.unit.targets.services.conftest import (
    SAGEMAKER,
    Stacks,
    holdout,
    offline_predictions,
    wait_for,
)

ENDPOINT = "mlops-endpoint"
IMAGE_KEY = "TrainingImage"
STATUS_SEEN_S = 60.0  # a bound only: the test releases the load as soon as it has looked


@pytest.fixture(scope="module")
def deployer(target: LocalTarget, stacks: Stacks) -> boto3.Session:
    """C's deploy function role, as Lambda assumes it."""
    role = stacks.outputs["production"]["DeployFunctionRoleArn"]
    return target.session_as_service(role, "lambda.amazonaws.com")


def _create_model(sagemaker: BaseClient, stacks: Stacks, name: str, result: dict) -> None:
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={"Image": result[IMAGE_KEY], "ModelDataUrl": result["ModelArtifacts"]},
        ExecutionRoleArn=stacks.outputs["production"]["SageMakerHostingRoleArn"],
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )


def _status(sagemaker: BaseClient, name: str) -> dict[str, Any]:
    return wait_for(
        lambda: sagemaker.describe_endpoint(EndpointName=name),
        lambda d: d["EndpointStatus"] not in ("Creating", "Updating"),
    )


@pytest.fixture(scope="module")
def endpoint(
    target: LocalTarget, stacks: Stacks, trained: dict[str, Any], deployer: boto3.Session
) -> dict[str, Any]:
    """The endpoint created as the deploy function would, once InService. Its model load
    waits until the test has seen it Creating: on a busy machine Creating could end before
    the describe call, and the check failed."""
    result = json.loads(trained["output"])
    sagemaker = target.client("sagemaker", deployer)
    _create_model(sagemaker, stacks, "mlops-model-1", result)
    with _loads_held():
        sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="mlops-model-1")
        status = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"]
    assert status == "Creating"
    return _status(sagemaker, ENDPOINT) | {"result": result}


@contextmanager
def _loads_held() -> Iterator[None]:
    """Containers started inside load their model only once the block ends: a start that
    is fast, or a test slowed down, would otherwise pass Creating or Updating before the
    test looked. The block's end releases them even when it fails, so none waits out the
    bound."""
    looked = threading.Event()
    load = HostedEndpoint._load

    def load_once_looked(hosted: HostedEndpoint) -> Any:
        looked.wait(STATUS_SEEN_S)
        return load(hosted)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HostedEndpoint, "_load", load_once_looked)
        try:
            yield
        finally:
            looked.set()


def test_endpoint_serves_the_models_offline_predictions(
    target: LocalTarget, stacks: Stacks, endpoint: dict[str, Any]
) -> None:
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
    features, body = holdout()
    runtime = target.client("sagemaker-runtime", target.session("production"))
    answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=body, ContentType="text/csv")

    assert answer["InvokedProductionVariant"] == "AllTraffic"
    served = [float(line) for line in answer["Body"].read().decode().splitlines()]
    hosting_role = stacks.outputs["production"]["SageMakerHostingRoleArn"]
    expected = offline_predictions(
        target, hosting_role, endpoint["result"]["ModelArtifacts"], features
    )
    assert served == expected


def test_invoke_errors_have_sagemaker_runtime_shapes(
    target: LocalTarget, endpoint: dict[str, Any]
) -> None:
    runtime = target.client("sagemaker-runtime", target.session("production"))
    with pytest.raises(ClientError) as missing:
        runtime.invoke_endpoint(EndpointName="mlops-nothing", Body=b"1,2", ContentType="text/csv")
    assert missing.value.response["Error"]["Code"] == "ValidationError"

    with pytest.raises(ClientError) as model_error:
        runtime.invoke_endpoint(EndpointName=ENDPOINT, Body=b"1,2", ContentType="text/csv")
    error = model_error.value.response
    assert error["Error"]["Code"] == "ModelError"
    assert error["OriginalStatusCode"] == 400


def test_update_switches_the_model_and_delete_stops_the_server(
    target: LocalTarget, stacks: Stacks, endpoint: dict[str, Any], deployer: boto3.Session
) -> None:
    sagemaker = target.client("sagemaker", deployer)
    _create_model(sagemaker, stacks, "mlops-model-2", endpoint["result"])
    with _loads_held():
        sagemaker.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName="mlops-model-2")
        status = sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"]
    assert status == "Updating"
    updated = _status(sagemaker, ENDPOINT)
    assert updated["EndpointStatus"] == "InService"
    assert updated["EndpointConfigName"] == "mlops-model-2"

    serving = target.runtimes.sagemaker.serving(  # type: ignore[union-attr]
        target.accounts["production"], target.region, ENDPOINT
    )
    assert serving is not None
    admin = target.client("sagemaker", target.session("production"))
    admin.delete_endpoint(EndpointName=ENDPOINT)
    wait_for(lambda: _refused(serving.url), bool, timeout=10)
    assert _refused(serving.url)


def _refused(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/ping", timeout=2).close()
    except (urllib.error.URLError, ConnectionError):
        return True
    return False


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


WHO_AM_I = """
import boto3

def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"arn": boto3.client("sts").get_caller_identity()["Arn"], "echo": event}
"""


def test_a_container_that_never_passes_its_ping_fails_the_endpoint_at_its_bound(
    target: LocalTarget,
    stacks: Stacks,
    trained: dict[str, Any],
    deployer: boto3.Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert target.runtimes is not None
    monkeypatch.setattr(target.runtimes.context, "fault", Fault(endpoints_healthy=False))
    monkeypatch.setenv("HARNESS_BOUND_ENDPOINT_START", "0.3")
    sagemaker = target.client("sagemaker", deployer)
    _create_model(sagemaker, stacks, "mlops-model-stuck", json.loads(trained["output"]))

    sagemaker.create_endpoint(EndpointName="mlops-stuck", EndpointConfigName="mlops-model-stuck")

    described = _status(sagemaker, "mlops-stuck")
    assert (described["EndpointStatus"], described["FailureReason"]) == (
        "Failed",
        "The primary container did not pass the ping health check: endpoint mlops-stuck to "
        "pass its ping health check (GET /ping): gave up after 0.3 s (bound)",
    )
    target.client("sagemaker", target.session("production")).delete_endpoint(
        EndpointName="mlops-stuck"
    )


def test_lambda_invoke_runs_the_function_as_its_role(target: LocalTarget) -> None:
    session = target.session("production")
    iam = target.client("iam", session)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="who-am-i", AssumeRolePolicyDocument=json.dumps(trust))
    functions = target.client("lambda", session)
    functions.create_function(
        FunctionName="who-am-i",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": _zip(WHO_AM_I)},
    )

    ok = functions.invoke(FunctionName="who-am-i", Payload=b'{"x": 1}')
    assert "FunctionError" not in ok
    payload = json.loads(ok["Payload"].read())
    account = target.accounts["production"]
    assert payload == {
        "arn": f"arn:aws:sts::{account}:assumed-role/who-am-i/lambda",
        "echo": {"x": 1},
    }

    failed = functions.invoke(FunctionName="who-am-i", Payload=b'{"fail": true}', LogType="Tail")
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "ValueError"
    assert failed["LogResult"]

    queued = functions.invoke(FunctionName="who-am-i", InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202

    with pytest.raises(functions.exceptions.InvalidRequestContentException):
        functions.invoke(FunctionName="who-am-i", InvocationType="Event", Payload=b"not json")
    with pytest.raises(functions.exceptions.ResourceNotFoundException):
        functions.invoke(FunctionName="nothing-here", Payload=b"{}")


def test_deploy_function_error_comes_back_as_function_error(
    target: LocalTarget, stacks: Stacks
) -> None:
    """The project's own deploy function, run as its role: an event without a job fails."""
    functions = target.client("lambda", target.session("production"))
    name = stacks.outputs["production"]["DeployFunctionName"]

    answer = functions.invoke(FunctionName=name, Payload=b"{}")

    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "KeyError"


def test_hosting_role_dropped_from_key_policy_fails_the_endpoint(
    target: LocalTarget, stacks: Stacks, endpoint: dict[str, Any], deployer: boto3.Session
) -> None:
    """Fault drill: A's key policy no longer lists the hosting role as a reader -> the
    endpoint cannot decrypt the model and ends Failed with the AccessDenied."""
    hosting_role = stacks.outputs["production"]["SageMakerHostingRoleArn"]
    kms = target.client("kms", target.session("shared-services"))
    policy = json.loads(kms.get_key_policy(KeyId=stacks.key_arn, PolicyName="default")["Policy"])
    for statement in policy["Statement"]:
        if statement.get("Sid") == "KeyDecryptByProductionReaders":
            readers = statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]
            statement["Condition"]["ArnEquals"]["aws:PrincipalArn"] = [
                r for r in readers if r != hosting_role
            ]
    kms.put_key_policy(KeyId=stacks.key_arn, PolicyName="default", Policy=json.dumps(policy))

    sagemaker = target.client("sagemaker", deployer)
    _create_model(sagemaker, stacks, "mlops-model-3", endpoint["result"])
    sagemaker.create_endpoint(EndpointName="mlops-denied", EndpointConfigName="mlops-model-3")
    failed = _status(sagemaker, "mlops-denied")

    assert failed["EndpointStatus"] == "Failed"
    assert "AccessDenied" in failed["FailureReason"]
    assert "kms:Decrypt" in failed["FailureReason"]
    assert SAGEMAKER not in failed["FailureReason"]  # the denial is A's key, not the trust
