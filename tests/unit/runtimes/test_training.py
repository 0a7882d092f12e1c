"""The training executor against moto's S3 and KMS, with the real infra data and XGBoost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import xgboost as xgb

from harness.runtimes.aws import AwsAccess
from harness.runtimes.training import container, executor
from harness.runtimes.training.executor import TrainingJob, start_training_job
from harness.runtimes.training.layout import ContainerLayout
from harness.runtimes.training.status import TrainingStatus
from harness.targets.local.faults import STUCK_ALGORITHM
from tests.unit.runtimes.conftest import (
    INFRA,
    Artifacts,
    auc,
    booster_from_artifact,
    load_csv,
    moto_iam_enforced,
    role_access,
    training_request,
)

TIMEOUT = 60


def run(
    artifacts: Artifacts,
    request: dict,
    access: AwsAccess | None = None,
    work_root: Path | None = None,
    algorithm: Sequence[str] | None = None,
) -> tuple[TrainingJob, list[TrainingStatus]]:
    seen: list[TrainingStatus] = []
    job = start_training_job(
        request,
        lambda _arn: access or artifacts.access,
        seen.append,
        work_root=work_root,
        algorithm=algorithm,
    )
    job.wait(TIMEOUT)
    assert job.status.done, "the job did not finish in time"
    return job, seen


def start_until_training(
    artifacts: Artifacts, request: dict, algorithm: Sequence[str] | None = None
) -> tuple[TrainingJob, list[TrainingStatus]]:
    """The job, started and reporting Training: its algorithm is being started."""
    seen: list[TrainingStatus] = []
    training = threading.Event()

    def observe(status: TrainingStatus) -> None:
        seen.append(status)
        if status.secondary_status == "Training":
            training.set()

    job = start_training_job(request, lambda _arn: artifacts.access, observe, algorithm=algorithm)
    assert training.wait(TIMEOUT), job.status
    return job, seen


def test_trains_a_model_written_under_the_key_that_predicts_the_holdout(
    artifacts: Artifacts, tmp_path: Path
) -> None:
    job, seen = run(artifacts, training_request(artifacts), work_root=tmp_path)

    status = job.status
    assert status.job_status == "Completed", status.failure_reason
    key = "models/mlops-job-1/output/model.tar.gz"
    assert status.model_artifacts == f"s3://{artifacts.bucket}/{key}"
    assert [(s.job_status, s.secondary_status) for s in seen] == [
        ("InProgress", "Starting"),
        ("InProgress", "Downloading"),
        ("InProgress", "Training"),
        ("InProgress", "Uploading"),
        ("Completed", "Completed"),
    ]
    fields = status.describe_fields()
    assert fields["ModelArtifacts"] == {"S3ModelArtifacts": status.model_artifacts}
    assert fields["TrainingStartTime"] <= fields["TrainingEndTime"]
    assert [t["Status"] for t in fields["SecondaryStatusTransitions"]][-1] == "Completed"
    assert any(line.startswith("[59]#011train-auc:") for line in job.logs())
    assert "#011validation-auc:" in job.logs()[-1]
    reported = {m["MetricName"]: m["Value"] for m in fields["FinalMetricDataList"]}
    assert sorted(reported) == ["train:auc", "validation:auc"]
    assert f"validation-auc:{reported['validation:auc']:.5f}" in job.logs()[-1]

    s3 = artifacts.access.client("s3")
    head = s3.head_object(Bucket=artifacts.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == artifacts.key_arn
    booster = booster_from_artifact(s3.get_object(Bucket=artifacts.bucket, Key=key)["Body"].read())
    features, labels = load_csv("holdout")
    assert auc(labels, booster.predict(xgb.DMatrix(features))) > 0.85
    assert_container_layout(tmp_path)


def assert_container_layout(root: Path) -> None:
    """What the algorithm process saw: SageMaker's files, with the request's content."""
    config = root / "opt" / "ml" / "input" / "config"
    hyperparameters = json.loads((INFRA / "pipeline" / "training-input.json").read_text())
    assert (
        json.loads((config / "hyperparameters.json").read_text())
        == (hyperparameters["hyperparameters"])
    )
    channels = json.loads((config / "inputdataconfig.json").read_text())
    assert sorted(channels) == ["train", "validation"]
    assert channels["train"]["ContentType"] == "text/csv"
    assert json.loads((config / "resourceconfig.json").read_text())["hosts"] == ["algo-1"]
    for channel in ("train", "validation"):
        downloaded = root / "opt" / "ml" / "input" / "data" / channel / f"{channel}.csv"
        assert downloaded.read_bytes() == (INFRA / "data" / f"{channel}.csv").read_bytes()
    assert not (root / "opt" / "ml" / "output" / "failure").exists()


def test_a_read_the_role_is_denied_fails_the_job_with_aws_error(
    artifacts: Artifacts, moto_url: str
) -> None:
    bucket_arn = f"arn:aws:s3:::{artifacts.bucket}"
    lister = role_access(
        artifacts.access,
        artifacts.account_id,
        "training-without-get",
        [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn}],
    )
    with moto_iam_enforced(moto_url):
        job, _ = run(artifacts, training_request(artifacts), access=lister)

    assert job.status.job_status == "Failed"
    assert job.status.failure_reason is not None
    assert job.status.failure_reason.startswith(
        "ClientError: An error occurred (AccessDenied) when calling the GetObject operation"
    )
    assert job.status.model_artifacts is None


def test_a_model_write_the_role_is_denied_fails_the_job(
    artifacts: Artifacts, moto_url: str
) -> None:
    bucket_arn = f"arn:aws:s3:::{artifacts.bucket}"
    reader = role_access(
        artifacts.access,
        artifacts.account_id,
        "training-read-only",
        [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/data/*"},
        ],
    )
    request = training_request(artifacts)
    request["HyperParameters"] = {**request["HyperParameters"], "num_round": "2"}
    with moto_iam_enforced(moto_url):
        job, seen = run(artifacts, request, access=reader)

    assert seen[-2].secondary_status == "Uploading"
    assert job.status.failure_reason is not None
    assert "(AccessDenied) when calling the PutObject operation" in job.status.failure_reason


def test_missing_data_fails_the_job_naming_the_channel(artifacts: Artifacts) -> None:
    request = training_request(artifacts)
    request["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] = (
        f"s3://{artifacts.bucket}/data/nothing-here/"
    )
    job, _ = run(artifacts, request)

    assert job.status.job_status == "Failed"
    assert job.status.failure_reason == (
        "ClientError: Data download failed: no S3 objects found under S3 URL "
        f"'s3://{artifacts.bucket}/data/nothing-here/' given for input data source validation"
    )


@pytest.mark.parametrize(
    "image",
    [
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:latest",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
        "111111111111.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    ],
)
def test_an_unknown_image_fails_the_job_before_any_data_is_read(
    artifacts: Artifacts, image: str
) -> None:
    request = training_request(
        artifacts, AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"}
    )
    job, seen = run(artifacts, request)

    assert job.status.job_status == "Failed"
    assert image in (job.status.failure_reason or "")
    assert "Downloading" not in [s.secondary_status for s in seen]


def test_an_unknown_hyperparameter_fails_the_algorithm_naming_it(artifacts: Artifacts) -> None:
    request = training_request(artifacts)
    request["HyperParameters"] = {**request["HyperParameters"], "max_dpeth": "4", "etta": "1"}
    job, _ = run(artifacts, request)

    assert job.status.job_status == "Failed"
    assert job.status.failure_reason == "AlgorithmError: unknown hyperparameters: etta, max_dpeth"


def test_max_runtime_stops_the_algorithm(artifacts: Artifacts) -> None:
    request = training_request(artifacts, StoppingCondition={"MaxRuntimeInSeconds": 1})
    # An algorithm that never ends: one training a million rounds spun a core until killed.
    job, _ = run(artifacts, request, algorithm=STUCK_ALGORITHM)

    assert (job.status.job_status, job.status.secondary_status) == (
        "Stopped",
        "MaxRuntimeExceeded",
    )
    assert "MaxRuntimeInSeconds" in (job.status.failure_reason or "")
    assert job.status.end_time is not None


def test_stop_kills_the_algorithm_and_the_job_ends_stopped(artifacts: Artifacts) -> None:
    request = training_request(artifacts)
    request["HyperParameters"] = {**request["HyperParameters"], "num_round": "1000000"}
    job, seen = start_until_training(artifacts, request)

    job.stop()
    status = job.wait(TIMEOUT)

    assert (status.job_status, status.secondary_status) == ("Stopped", "Stopped")
    assert status.failure_reason is None
    assert status.model_artifacts is None
    assert ("Stopping", "Stopping") in [(s.job_status, s.secondary_status) for s in seen]


def test_trains_through_a_tls_target_trusting_its_ca_bundle(
    artifacts: Artifacts, moto_over_tls: tuple[str, Path]
) -> None:
    url, bundle = moto_over_tls
    over_tls = AwsAccess(artifacts.access.session, url, verify=str(bundle))
    request = training_request(artifacts)
    request["HyperParameters"] = {**request["HyperParameters"], "num_round": "2"}

    job, _ = run(artifacts, request, access=over_tls)

    assert job.status.job_status == "Completed", job.status.failure_reason


def test_a_stuck_algorithm_runs_until_the_job_is_stopped(artifacts: Artifacts) -> None:
    job, _ = start_until_training(artifacts, training_request(artifacts), algorithm=STUCK_ALGORITHM)
    # An algorithm that ended or failed would have within this (a Python start: ~30 ms).
    assert not job.wait(0.5).done  # the algorithm neither ends nor fails on its own

    job.stop()
    status = job.wait(TIMEOUT)

    assert (status.job_status, status.secondary_status) == ("Stopped", "Stopped")


def start_watching_downloads(
    artifacts: Artifacts,
    request: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    see: Callable[[TrainingJob], None],
) -> TrainingJob:
    """The job, started, with ``see(job)`` called as each channel's download begins."""
    download = executor._download_channel
    job = TrainingJob(request, lambda _arn: artifacts.access)

    def watched(s3: object, channel: dict, target: Path) -> None:
        see(job)
        download(s3, channel, target)

    monkeypatch.setattr(executor, "_download_channel", watched)
    return job.start()


def test_the_algorithm_starts_during_the_download_and_trains_once_it_is_complete(
    artifacts: Artifacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The container's imports overlap the download; it reads its input only once the
    download is complete (the job would fail on a missing channel otherwise)."""
    running_while_downloading = []

    def see(job: TrainingJob) -> None:
        process = job._process
        running_while_downloading.append(process is not None and process.poll() is None)

    request = training_request(artifacts)
    request["HyperParameters"] = {**request["HyperParameters"], "num_round": "2"}
    job = start_watching_downloads(artifacts, request, monkeypatch, see)

    assert job.wait(TIMEOUT).job_status == "Completed", job.status.failure_reason
    assert running_while_downloading == [True, True]


def test_a_failed_download_ends_the_started_algorithm_unrun(
    artifacts: Artifacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[subprocess.Popen[bytes]] = []

    def see(job: TrainingJob) -> None:
        if job._process is not None:
            started.append(job._process)

    request = training_request(artifacts)
    request["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] = (
        f"s3://{artifacts.bucket}/data/nothing-here/"
    )
    job = start_watching_downloads(artifacts, request, monkeypatch, see)

    assert job.wait(TIMEOUT).job_status == "Failed"
    assert started and all(process.poll() is not None for process in started)
    assert job._process is None


def test_a_stop_during_the_download_kills_the_started_algorithm(
    artifacts: Artifacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[subprocess.Popen[bytes]] = []

    def stop_at_the_first(job: TrainingJob) -> None:
        if job._process is not None and not started:
            started.append(job._process)
            job.stop()

    request = training_request(artifacts)
    job = start_watching_downloads(artifacts, request, monkeypatch, stop_at_the_first)

    status = job.wait(TIMEOUT)
    assert (status.job_status, status.secondary_status) == ("Stopped", "Stopped")
    assert started and started[0].returncode == -signal.SIGKILL
    assert job._process is None


def test_the_container_runs_the_algorithm_only_after_go(tmp_path: Path) -> None:
    """Without GO (stdin closed: the download failed) the algorithm never runs; with it, it
    does (here it fails on an empty layout and says so in output/failure)."""
    command = [
        sys.executable,
        "-m",
        container.__name__,
        "harness.runtimes.training.xgboost_algorithm",
        str(tmp_path),
    ]
    env = {**os.environ, "PYTHONPATH": str(executor.PROJECT_ROOT)}
    ContainerLayout(tmp_path).create()
    failure = ContainerLayout(tmp_path).failure_file

    unrun = subprocess.run(command, input=b"", env=env, capture_output=True, check=False)
    assert unrun.returncode == container.NOT_STARTED_EXIT
    assert not failure.exists()

    run_ = subprocess.run(command, input=container.GO, env=env, capture_output=True, check=False)
    assert run_.returncode == 1
    assert failure.exists()
