"""The Lambda runner: handlers of our own, and the deploy function of account C, on moto."""

from __future__ import annotations

import base64
import io
import json
import os
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.runtimes.aws import AwsAccess
from harness.runtimes.lambda_runner import (
    Environments,
    InvalidRequestContentError,
    LambdaFunction,
    UnsupportedRuntimeError,
    invoke_function,
)
from tests.unit.runtimes.conftest import IMAGE, INFRA, access_in, role_access

HANDLERS = """
import json, os, time

def echo(event, context):
    print("echo got", json.dumps(event))
    print("secret is", os.environ["AWS_SECRET_ACCESS_KEY"])
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "env": {name: os.environ.get(name) for name in (
            "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "STAGE", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE",
            "TZ")},
        "cwd_is_task_root": os.getcwd() == os.environ["LAMBDA_TASK_ROOT"],
    }

def whoami(event, context):
    import boto3  # only here: the other handlers start faster without it

    return boto3.client("sts").get_caller_identity()["Arn"]

def fail(event, context):
    raise ValueError(f"cannot handle {event['item']}")

def stubborn(event, context):
    while True:
        try:
            time.sleep(30)
        except BaseException:
            pass

def unserialisable(event, context):
    return {1, 2}

CALLS = 0

def count(event, context):
    global CALLS
    CALLS += 1
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    return {"calls": CALLS, "pid": os.getpid()}
"""


def package(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def function(handler: str, code: bytes | Path | None = None, **settings: Any) -> LambdaFunction:
    name = settings.pop("name", "runner-test")
    # Lambda's default of 3 s is what a handler that imports boto3 took on a loaded 2-core box;
    # only the timeout tests set their own.
    settings.setdefault("timeout", 30)
    return LambdaFunction(
        name=name,
        handler=handler,
        code=package({"index.py": HANDLERS}) if code is None else code,
        function_arn=f"arn:aws:lambda:us-east-1:333333333333:function:{name}",
        **settings,
    )


@pytest.fixture
def role(access: AwsAccess, account_id: str) -> AwsAccess:
    return role_access(
        access, account_id, "runner-test", [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    )


def test_the_handler_runs_with_its_event_environment_and_context(role: AwsAccess) -> None:
    result = invoke_function(
        function("index.echo", environment={"STAGE": "prod", "AWS_REGION": "eu-north-1"}),
        json.dumps({"item": 7}).encode(),
        role,
        log_type="Tail",
    )

    assert result.function_error is None
    assert result.executed_version == "$LATEST"
    payload = json.loads(result.payload)
    assert payload["event"] == {"item": 7}
    assert payload["function_name"] == "runner-test"
    assert 0 < payload["remaining_ms"] <= 30_000  # the function's timeout, in ms
    assert payload["cwd_is_task_root"] is True
    assert payload["env"] == {
        "AWS_REGION": "us-east-1",  # reserved: the function's own value cannot override it
        "AWS_LAMBDA_FUNCTION_NAME": "runner-test",
        "STAGE": "prod",
        "AWS_ENDPOINT_URL": role.endpoint_url,
        "AWS_CA_BUNDLE": None,
        "TZ": ":UTC",
    }
    tail = base64.b64decode(result.log_result or "").decode()
    assert tail.startswith(f"START RequestId: {payload['request_id']} Version: $LATEST")
    assert 'echo got {"item": 7}' in tail
    assert f"END RequestId: {payload['request_id']}" in tail


def test_the_targets_ca_bundle_reaches_the_code(role: AwsAccess, tmp_path: Path) -> None:
    bundle = tmp_path / "gateway-ca.pem"
    over_tls = AwsAccess(role.session, "https://127.0.0.1:4443", verify=str(bundle))

    result = invoke_function(function("index.echo"), b"{}", over_tls)

    env = json.loads(result.payload)["env"]
    assert (env["AWS_ENDPOINT_URL"], env["AWS_CA_BUNDLE"]) == (over_tls.endpoint_url, str(bundle))


def test_credentials_reach_the_code_but_never_the_logs(role: AwsAccess) -> None:
    result = invoke_function(function("index.echo"), b"{}", role, log_type="Tail")
    credentials = role.credentials()

    assert "secret is ****" in result.log
    for secret in (credentials.access_key, credentials.secret_key, credentials.token):
        assert secret not in result.log
        assert secret not in base64.b64decode(result.log_result or "").decode()


def test_the_code_calls_aws_as_the_role(role: AwsAccess, account_id: str) -> None:
    result = invoke_function(function("index.whoami"), b"{}", role)

    assert result.function_error is None, result.payload
    arn = json.loads(result.payload)
    assert arn.startswith(f"arn:aws:sts::{account_id}:assumed-role/runner-test/")


def test_an_exception_is_an_unhandled_function_error(role: AwsAccess) -> None:
    result = invoke_function(function("index.fail"), b'{"item": "x"}', role, log_type="Tail")

    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "cannot handle x"
    assert any("index.py" in line and "in fail" in line for line in error["stackTrace"])
    assert not any("lambda_bootstrap" in line for line in error["stackTrace"])
    assert (
        "[ERROR] ValueError: cannot handle x" in base64.b64decode(result.log_result or "").decode()
    )


def test_the_timeout_ends_a_handler_that_swallows_everything(role: AwsAccess) -> None:
    started = time.monotonic()
    result = invoke_function(function("index.stubborn", timeout=0.3), b"{}", role)

    assert time.monotonic() - started < 8  # the handler's timer, not the 10 s init allowance
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 0.30 seconds")
    assert result.log_result is None  # LogType None: no tail


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("missing.handler", "Runtime.ImportModuleError", "Unable to import module 'missing'"),
        ("index.nothing", "Runtime.HandlerNotFound", "Handler 'nothing' missing on module"),
        ("index.unserialisable", "Runtime.MarshalError", "Unable to marshal response"),
    ],
)
def test_runtime_errors_are_reported_as_lambda_does(
    role: AwsAccess, handler: str, error_type: str, message: str
) -> None:
    result = invoke_function(function(handler), b"{}", role)

    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == error_type
    assert error["errorMessage"].startswith(message)


def test_code_may_be_a_directory(role: AwsAccess, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return event['n'] * 2\n")

    result = invoke_function(function("app.handler", code=tmp_path), b'{"n": 21}', role)

    assert json.loads(result.payload) == 42


def test_a_payload_that_is_not_json_is_refused(role: AwsAccess) -> None:
    with pytest.raises(InvalidRequestContentError):
        invoke_function(function("index.echo"), b"{not json", role)


def test_a_function_that_is_not_python_is_refused(role: AwsAccess) -> None:
    with pytest.raises(UnsupportedRuntimeError, match=r"nodejs20\.x"):
        invoke_function(function("index.echo", runtime="nodejs20.x"), b"{}", role)


class CodePipelineStandIn:
    """Loopback CodePipeline answering the job-result calls moto lacks, recording each one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                calls.append((self.headers["X-Amz-Target"].split(".")[-1], json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()


@pytest.fixture
def codepipeline() -> Iterator[CodePipelineStandIn]:
    stand_in = CodePipelineStandIn()
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


def deploy_function(codepipeline: CodePipelineStandIn) -> LambdaFunction:
    source = (INFRA / "lambda" / "deploy_endpoint.py").read_text()
    return function(
        "index.handler",
        code=package({"index.py": source}),
        name="mlops-deploy-endpoint",
        timeout=30,
        environment={
            "ENDPOINT_NAME": "mlops-endpoint",
            "RESOURCE_PREFIX": "mlops",
            "HOSTING_ROLE_ARN": "arn:aws:iam::123456789012:role/mlops-c-sagemaker-hosting",
            "ENDPOINT_INSTANCE_TYPE": "ml.m5.large",
            "TRAINING_RESULT_FILE": "output.json",
            # moto has no CodePipeline: only its calls go to the stand-in
            "AWS_ENDPOINT_URL_CODEPIPELINE": codepipeline.url,
        },
    )


def pipeline_event(bucket: str, key: str) -> bytes:
    location = {"s3Location": {"bucketName": bucket, "objectKey": key}, "type": "S3"}
    job = {
        "id": "11111111-2222-3333-4444-555555555555",
        "data": {"inputArtifacts": [{"name": "TrainingOutput", "location": location}]},
    }
    return json.dumps({"CodePipeline.job": job}).encode()


def test_the_deploy_function_creates_the_endpoint_and_reports_to_the_pipeline(
    moto_url: str, codepipeline: CodePipelineStandIn
) -> None:
    # The function's own boto3 clients carry no moto account header: moto's default account.
    access = access_in(moto_url, "123456789012")
    s3 = access.client("s3")
    s3.create_bucket(Bucket="runner-pipeline-artifacts")
    result_file = {
        "TrainingJobName": "mlops-run-1",
        "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/mlops-run-1",
        "ModelArtifacts": "s3://runner-pipeline-artifacts/models/mlops-run-1/output/model.tar.gz",
        "TrainingImage": IMAGE,
    }
    s3.put_object(
        Bucket="runner-pipeline-artifacts",
        Key="mlops/TrainingOu/run1.zip",
        Body=package({"output.json": json.dumps(result_file)}),
    )

    result = invoke_function(
        deploy_function(codepipeline),
        pipeline_event("runner-pipeline-artifacts", "mlops/TrainingOu/run1.zip"),
        access,
        log_type="Tail",
    )

    assert result.function_error is None, result.payload
    assert [name for name, _ in codepipeline.calls] == ["PutJobSuccessResult"]
    assert codepipeline.calls[0][1]["jobId"] == "11111111-2222-3333-4444-555555555555"
    model = access.client("sagemaker").describe_model(ModelName="mlops-run-1")
    assert model["PrimaryContainer"]["ModelDataUrl"] == result_file["ModelArtifacts"]
    assert access.client("sagemaker").describe_endpoint(EndpointName="mlops-endpoint")


def test_the_deploy_function_reports_a_bad_artifact_as_job_failure(
    moto_url: str, codepipeline: CodePipelineStandIn
) -> None:
    access = access_in(moto_url, "123456789012")
    s3 = access.client("s3")
    s3.create_bucket(Bucket="runner-pipeline-artifacts-2")
    s3.put_object(
        Bucket="runner-pipeline-artifacts-2",
        Key="mlops/TrainingOu/run2.zip",
        Body=package({"other.json": "{}"}),
    )

    result = invoke_function(
        deploy_function(codepipeline),
        pipeline_event("runner-pipeline-artifacts-2", "mlops/TrainingOu/run2.zip"),
        access,
    )

    assert result.function_error is None
    [(name, call)] = codepipeline.calls
    assert name == "PutJobFailureResult"
    assert call["failureDetails"]["message"] == (
        "DeployError: input artifact TrainingOutput has no output.json"
    )


def test_the_code_reaches_a_tls_target_trusting_only_its_ca_bundle(
    role: AwsAccess, moto_over_tls: tuple[str, Path]
) -> None:
    url, bundle = moto_over_tls
    over_tls = AwsAccess(role.session, url, verify=str(bundle))

    result = invoke_function(function("index.whoami"), b"{}", over_tls)

    assert result.function_error is None, result.payload
    assert ":assumed-role/runner-test/" in json.loads(result.payload)
    untrusting = AwsAccess(role.session, url)  # no bundle: the public CAs only
    failed = invoke_function(
        function("index.whoami", environment={"AWS_MAX_ATTEMPTS": "1"}), b"{}", untrusting
    )
    assert failed.function_error == "Unhandled"
    assert "CERTIFICATE_VERIFY_FAILED" in json.loads(failed.payload)["errorMessage"]


def counted(result: Any) -> dict[str, int]:
    assert result.function_error is None, result.payload
    return json.loads(result.payload)


def test_an_environment_stays_warm_for_the_next_invocation_of_its_function(
    role: AwsAccess,
) -> None:
    """The second invocation runs in the interpreter of the first, whose module state it
    sees (as on Lambda); without warm environments each starts cold. One function, as
    CreateFunction stored it: a zip packed again could differ (its entries' times)."""
    counting = function("index.count")
    warm = Environments()
    try:
        first = counted(invoke_function(counting, b"{}", role, warm=warm))
        second = counted(invoke_function(counting, b"{}", role, warm=warm))
    finally:
        warm.stop()
    cold = counted(invoke_function(counting, b"{}", role))

    assert (first["calls"], second["calls"]) == (1, 2)
    assert first["pid"] == second["pid"]
    assert cold["calls"] == 1


def test_a_failed_invocation_or_another_configuration_starts_cold(role: AwsAccess) -> None:
    warm = Environments()
    try:
        failed = invoke_function(function("index.count"), b'{"fail": true}', role, warm=warm)
        after_failure = counted(invoke_function(function("index.count"), b"{}", role, warm=warm))
        other = function("index.count", environment={"STAGE": "other"})
        other_configuration = counted(invoke_function(other, b"{}", role, warm=warm))
    finally:
        warm.stop()

    assert failed.function_error == "Unhandled"
    assert after_failure["calls"] == 1
    assert other_configuration["calls"] == 1


def test_an_environment_past_its_age_is_ended_and_the_next_invocation_starts_cold(
    role: AwsAccess,
) -> None:
    """It holds the role credentials it started with: past ``max_age_s`` it is not reused."""
    counting = function("index.count")
    warm = Environments(max_age_s=0.0)
    try:
        first = counted(invoke_function(counting, b"{}", role, warm=warm))
        second = counted(invoke_function(counting, b"{}", role, warm=warm))
    finally:
        warm.stop()

    assert (first["calls"], second["calls"]) == (1, 1)
    with pytest.raises(ProcessLookupError):
        os.kill(first["pid"], 0)


def test_stop_ends_the_warm_environments(role: AwsAccess) -> None:
    warm = Environments()
    pid = counted(invoke_function(function("index.count"), b"{}", role, warm=warm))["pid"]
    os.kill(pid, 0)  # still running, warm

    warm.stop()

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    later = counted(invoke_function(function("index.count"), b"{}", role, warm=warm))
    assert later["calls"] == 1  # started cold, and not kept after the stop
    with pytest.raises(ProcessLookupError):
        os.kill(later["pid"], 0)
