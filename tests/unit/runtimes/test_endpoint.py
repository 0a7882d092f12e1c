"""The endpoint server: a model trained by the executor, fetched from moto, served on loopback."""

from __future__ import annotations

import io
import itertools
import json
import tarfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import xgboost as xgb

from harness.deadlines import poll
from harness.runtimes.aws import AwsAccess
from harness.runtimes.endpoint.hosting import EndpointState, HostedEndpoint, ModelSpec
from harness.runtimes.endpoint.invoke import ModelError, invoke_endpoint
from harness.runtimes.training.executor import start_training_job
from tests.unit.runtimes.conftest import (
    IMAGE,
    INFRA,
    Artifacts,
    booster_from_artifact,
    load_csv,
    make_artifacts,
    moto_iam_enforced,
    role_access,
    training_request,
)

HOSTING_ROLE = "arn:aws:iam::333333333333:role/mlops-c-sagemaker-hosting"
_names = itertools.count(1)


@dataclass(frozen=True)
class Trained:
    artifacts: Artifacts
    model_data_url: str
    booster: xgb.Booster  # the same model, loaded offline


@pytest.fixture(scope="module")
def trained(moto_url: str) -> Trained:
    """One real training run, shared by this module's endpoints."""
    artifacts = make_artifacts(moto_url, "300000000001")
    job = start_training_job(training_request(artifacts), lambda _arn: artifacts.access)
    status = job.wait(60)
    assert status.model_artifacts, status.failure_reason
    key = status.model_artifacts.split("/", 3)[3]
    body = artifacts.access.client("s3").get_object(Bucket=artifacts.bucket, Key=key)["Body"]
    booster = booster_from_artifact(body.read())
    return Trained(artifacts, status.model_artifacts, booster)


def host(
    trained: Trained,
    image: str = IMAGE,
    url: str | None = None,
    access: AwsAccess | None = None,
    healthy: bool = True,
) -> tuple[HostedEndpoint, list[EndpointState]]:
    seen: list[EndpointState] = []
    model = ModelSpec(image, url or trained.model_data_url, HOSTING_ROLE)
    endpoint = HostedEndpoint(
        f"endpoint-{next(_names)}",
        model,
        access or trained.artifacts.access,
        seen.append,
        healthy=healthy,
    )
    endpoint.start().wait(30)
    return endpoint, seen


@pytest.fixture
def serving(trained: Trained) -> Iterator[HostedEndpoint]:
    endpoint, _ = host(trained)
    yield endpoint
    endpoint.stop()


def csv_rows(features: np.ndarray) -> bytes:
    return "\n".join(",".join(f"{value:.5f}" for value in row) for row in features).encode()


def test_endpoint_goes_in_service_and_predicts_as_the_booster_does(trained: Trained) -> None:
    endpoint, seen = host(trained)
    try:
        assert [state.status for state in seen] == ["Creating", "InService"]
        url = endpoint.state.url
        assert url and url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/ping", timeout=5) as ping:
            assert ping.status == 200

        holdout = (INFRA / "data" / "holdout.csv").read_text().splitlines()
        request = "\n".join(line.split(",", 1)[1] for line in holdout)  # the label dropped
        result = invoke_endpoint(url, request.encode(), "text/csv")
        features, _ = load_csv("holdout")

        assert result.content_type == "text/csv"
        lines = result.body.decode().splitlines()
        assert len(lines) == len(features)
        offline = trained.booster.predict(xgb.DMatrix(features))
        assert [float(line) for line in lines] == offline.tolist()
    finally:
        endpoint.stop()


def test_json_accept_returns_scores(serving: HostedEndpoint) -> None:
    features, _ = load_csv("holdout")
    result = invoke_endpoint(
        serving.state.url or "", csv_rows(features[:3]), "text/csv", "application/json"
    )

    scores = [item["score"] for item in json.loads(result.body)["predictions"]]
    assert len(scores) == 3
    assert all(0 <= score <= 1 for score in scores)


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status"),
    [
        (b'{"instances": [[1, 2]]}', "application/json", None, 415),
        (b"1,2,x,4,5,6,7,8", "text/csv", None, 415),
        (b"1,2,3\n1,2", "text/csv", None, 415),
        (b"1,2,3", "text/csv", None, 400),
        (b"1,2,3,4,5,6,7,8", "text/csv", "application/x-recordio-protobuf", 406),
    ],
)
def test_bad_requests_get_the_containers_status(
    serving: HostedEndpoint, body: bytes, content_type: str, accept: str | None, status: int
) -> None:
    with pytest.raises(ModelError) as raised:
        invoke_endpoint(serving.state.url or "", body, content_type, accept)

    assert raised.value.original_status_code == status
    assert raised.value.original_message


def test_an_empty_body_gets_no_content(serving: HostedEndpoint) -> None:
    assert invoke_endpoint(serving.state.url or "", b"", "text/csv").body == b""


def test_endpoints_run_side_by_side_and_stop(trained: Trained) -> None:
    first, _ = host(trained)
    second, _ = host(trained)
    row = b"0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8"
    try:
        assert first.state.url != second.state.url
        assert invoke_endpoint(first.state.url or "", row, "text/csv").body == (
            invoke_endpoint(second.state.url or "", row, "text/csv").body
        )
    finally:
        first.stop()
    assert invoke_endpoint(second.state.url or "", row, "text/csv").body
    second.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{second.state.url}/ping", timeout=2)


def test_a_role_that_cannot_read_the_model_leaves_the_endpoint_failed(
    trained: Trained, moto_url: str
) -> None:
    nothing = role_access(
        trained.artifacts.access,
        trained.artifacts.account_id,
        "hosting-without-read",
        [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}],
    )
    with moto_iam_enforced(moto_url):
        endpoint, seen = host(trained, access=nothing)

    assert [state.status for state in seen] == ["Creating", "Failed"]
    reason = endpoint.state.failure_reason or ""
    assert trained.model_data_url in reason
    assert "ClientError: An error occurred (AccessDenied) when calling the GetObject" in reason
    endpoint.stop()


@pytest.mark.parametrize(
    ("image", "url_suffix", "reason"),
    [
        (IMAGE.replace(":1.7-1", ":latest"), "", "use a pinned tag: 1.7-1"),
        (IMAGE, ".missing", "(NoSuchKey)"),
    ],
)
def test_an_unservable_model_leaves_the_endpoint_failed(
    trained: Trained, image: str, url_suffix: str, reason: str
) -> None:
    endpoint, _ = host(trained, image=image, url=trained.model_data_url + url_suffix)

    assert endpoint.state.status == "Failed"
    assert reason in (endpoint.state.failure_reason or "")
    assert endpoint.state.url is None
    endpoint.stop()


def test_an_endpoint_never_started_can_be_stopped(trained: Trained) -> None:
    endpoint = HostedEndpoint(
        "never-started",
        ModelSpec(IMAGE, trained.model_data_url, HOSTING_ROLE),
        trained.artifacts.access,
    )

    endpoint.stop()

    assert endpoint.state.status == "Creating"


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not a tarball", "is not a valid tar.gz"),
        (tar_gz({"a.txt": b"1", "b.txt": b"2"}), "expected one model file (xgboost-model)"),
        (tar_gz({"xgboost-model": b"garbage"}), "cannot load xgboost-model as an XGBoost model"),
    ],
)
def test_an_artifact_without_a_loadable_model_leaves_the_endpoint_failed(
    trained: Trained, body: bytes, reason: str
) -> None:
    key = f"models/broken-{next(_names)}/output/model.tar.gz"
    trained.artifacts.access.client("s3").put_object(
        Bucket=trained.artifacts.bucket, Key=key, Body=body
    )

    endpoint, _ = host(trained, url=f"s3://{trained.artifacts.bucket}/{key}")

    assert endpoint.state.status == "Failed"
    assert reason in (endpoint.state.failure_reason or "")
    endpoint.stop()


def test_a_container_that_never_passes_its_ping_fails_the_endpoint_at_the_bound(
    trained: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_BOUND_ENDPOINT_START", "0.3")
    endpoint, seen = host(trained, healthy=False)

    assert [state.status for state in seen] == ["Creating", "Failed"]
    assert endpoint.state.failure_reason == (
        "The primary container did not pass the ping health check: endpoint "
        f"{endpoint.name} to pass its ping health check (GET /ping): gave up after 0.3 s (bound)"
    )
    assert endpoint.stop(0.5)


def test_stopping_an_endpoint_whose_ping_is_awaited_ends_its_start_at_once(
    trained: Trained,
) -> None:
    seen: list[EndpointState] = []
    model = ModelSpec(IMAGE, trained.model_data_url, HOSTING_ROLE)
    endpoint = HostedEndpoint("stuck", model, trained.artifacts.access, seen.append, healthy=False)
    endpoint.start()
    for _ in poll("the model loaded and its ping awaited (300 s bound)", 30):
        if endpoint._server is not None:  # serving, not yet healthy: the ping is awaited
            break

    assert endpoint.stop(2)

    assert [state.status for state in seen] == ["Creating", "Failed"]
    assert "deleted while Creating" in (seen[-1].failure_reason or "")
