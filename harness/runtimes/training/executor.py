"""Run a CreateTrainingJob request for real: download, train in a subprocess, upload.

The algorithm's process starts as the download begins and imports its stack meanwhile; it
reads its input only once the download is complete (:mod:`.container`).

The job runs in a background thread, as SageMaker's does; the caller polls `status` or gets
every change through an observer (the local target copies it into moto's training-job record,
so DescribeTrainingJob and Step Functions' `.sync` see it). Data is read and the model written
with the job's execution role, through whatever endpoint that role's access points at, so a
missing permission fails the job with AWS's own error as its FailureReason.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.runtimes.aws import AwsAccess, describe_error, download_object, split_s3_uri
from harness.runtimes.images import UnsupportedImageError, resolve_image
from harness.runtimes.training import container
from harness.runtimes.training.layout import ContainerLayout
from harness.runtimes.training.metrics import final_metrics
from harness.runtimes.training.status import StatusObserver, TrainingStatus, now

LOG = logging.getLogger(__name__)
# The directory holding the `harness` package, so the algorithm process can import it.
PROJECT_ROOT = Path(__file__).resolve().parents[3]
INPUT_MODES = frozenset({"File", "FastFile"})
HOST = "algo-1"

RoleAccess = Callable[[str], AwsAccess]


class JobFailure(Exception):
    """The job fails; the message is its FailureReason."""


class TrainingJob:
    """One training job. `start()` runs it in a thread; `status` is always a full snapshot."""

    def __init__(
        self,
        request: Mapping[str, Any],
        role_access: RoleAccess,
        on_status: StatusObserver | None = None,
        work_root: Path | None = None,
        algorithm: Sequence[str] | None = None,
    ) -> None:
        self.request = request
        self._algorithm = algorithm  # a command in place of the image's (a drill's stuck one)
        self.name: str = request["TrainingJobName"]
        self._role_access = role_access
        self._on_status = on_status
        self._work_root = work_root
        self._status = TrainingStatus()
        self._lock = threading.RLock()  # held while observers run, so they see changes in order
        self._stop_requested = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: Path | None = None
        self._log_lines: list[str] = []
        self._thread = threading.Thread(target=self._run, name=f"training-{self.name}", daemon=True)

    @property
    def status(self) -> TrainingStatus:
        with self._lock:
            return self._status

    def start(self) -> TrainingJob:
        self._update(lambda s: replace(s, start_time=now()).advance("InProgress", "Starting"))
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> TrainingStatus:
        self._thread.join(timeout)
        return self.status

    def stop(self) -> None:
        """StopTrainingJob: the algorithm process is killed and the job ends Stopped."""
        with self._lock:
            if self._status.done or self._stop_requested.is_set():
                return
            self._stop_requested.set()
            self._update(lambda s: s.advance("Stopping", "Stopping"))
            if self._process is not None:
                self._process.kill()

    def logs(self) -> list[str]:
        """The algorithm's output (stdout and stderr) so far, line by line."""
        live = self._log_file
        if self._log_lines or live is None or not live.exists():
            return list(self._log_lines)
        return live.read_text(errors="replace").splitlines()

    def _update(self, change: Callable[[TrainingStatus], TrainingStatus]) -> None:
        """Apply `change` atomically; observers see every snapshot, in order."""
        with self._lock:
            self._status = change(self._status)
            if self._on_status is not None:
                self._on_status(self._status)

    def _step(self, secondary_status: str, message: str = "") -> None:
        if self._stop_requested.is_set():
            raise _Stopped("Stopped", "training job stopped by request")
        self._update(lambda s: s.advance("InProgress", secondary_status, message))

    def _run(self) -> None:
        try:
            with ExitStack() as stack:
                root = self._work_root or Path(
                    stack.enter_context(tempfile.TemporaryDirectory(prefix=f"{self.name}-"))
                )
                artifacts = self._execute(ContainerLayout(root))
            self._finish("Completed", "Completed", "Training job completed", artifacts=artifacts)
        except _Stopped as stopped:
            timed_out = stopped.secondary_status == "MaxRuntimeExceeded"
            reason = str(stopped) if timed_out else None
            self._finish("Stopped", stopped.secondary_status, str(stopped), reason=reason)
        except JobFailure as failure:
            self._finish("Failed", "Failed", str(failure), reason=str(failure))
        except (ClientError, BotoCoreError) as exc:
            self._finish("Failed", "Failed", describe_error(exc), reason=describe_error(exc))
        except Exception as exc:  # a bug of ours must still end the job, with its reason
            LOG.exception("training job %s crashed", self.name)
            reason = f"InternalServerError: {describe_error(exc)}"
            self._finish("Failed", "Failed", reason, reason=reason)

    def _finish(
        self,
        job_status: str,
        secondary_status: str,
        message: str,
        reason: str | None = None,
        artifacts: str | None = None,
    ) -> None:
        """The terminal snapshot: end time, and FailureReason or the model's location."""
        self._update(
            lambda status: replace(
                status.advance(job_status, secondary_status, message),
                end_time=now(),
                failure_reason=reason,
                model_artifacts=artifacts,
                final_metrics=final_metrics(self._log_lines),
            )
        )

    def _execute(self, layout: ContainerLayout) -> str:
        access = self._role_access(self.request["RoleArn"])
        image = self.request["AlgorithmSpecification"]["TrainingImage"]
        try:
            algorithm = resolve_image(image, access.region)
        except UnsupportedImageError as exc:
            raise JobFailure(f"ClientError: {exc}") from None
        layout.create()
        self._write_config(layout)
        self._step("Downloading", "Downloading input data")
        with self._container(layout, algorithm.training_module) as process:
            s3 = access.client("s3")
            for channel in self.request.get("InputDataConfig", []):
                _download_channel(s3, channel, layout.channel_dir(channel["ChannelName"]))
            self._step("Training", "Training image download completed. Training in progress.")
            self._train(layout, process)
        self._step("Uploading", "Uploading generated training model")
        return _upload_model(s3, layout, self.request)

    def _write_config(self, layout: ContainerLayout) -> None:
        default_mode = self.request["AlgorithmSpecification"].get("TrainingInputMode", "File")
        channels = {}
        for channel in self.request.get("InputDataConfig", []):
            mode = channel.get("InputMode", default_mode)
            if mode not in INPUT_MODES:
                raise JobFailure(f"ClientError: input mode {mode} is not supported")
            source = channel["DataSource"].get("S3DataSource", {})
            channels[channel["ChannelName"]] = {
                "ContentType": channel.get("ContentType"),
                "TrainingInputMode": mode,
                "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
                "RecordWrapperType": channel.get("RecordWrapperType", "None"),
            }
        layout.write_config("hyperparameters", dict(self.request.get("HyperParameters", {})))
        layout.write_config("inputdataconfig", channels)
        layout.write_config(
            "resourceconfig",
            {"current_host": HOST, "hosts": [HOST], "network_interface_name": "eth0"},
        )

    @contextmanager
    def _container(self, layout: ContainerLayout, module: str) -> Iterator[subprocess.Popen[bytes]]:
        """The algorithm's process, started before the input is downloaded so that its
        imports overlap the download (it runs the algorithm only once :meth:`_train` says the
        input is in place); killed if it is still running when the block ends, also when the
        download failed."""
        self._log_file = layout.root / "logs" / f"{HOST}.log"
        self._log_file.parent.mkdir(exist_ok=True)
        env = {
            **self.request.get("Environment", {}),  # CreateTrainingJob's container variables
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(PROJECT_ROOT),
            "SM_MODEL_DIR": str(layout.model_dir),
            "SM_CURRENT_HOST": HOST,
            # Containers of the local target share one host with the harness and each other;
            # OpenMP threads spinning against each other there cost far more than they gain.
            "OMP_NUM_THREADS": "1",
        }
        algorithm = f"harness.runtimes.training.{module}"
        command = (
            [*self._algorithm]
            if self._algorithm is not None
            else [sys.executable, "-m", container.__name__, algorithm, str(layout.root)]
        )
        with self._log_file.open("wb") as log:
            process = subprocess.Popen(
                command,
                bufsize=0,  # GO reaches the process as it is written
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        with self._lock:
            self._process = process
            if self._stop_requested.is_set():  # stopped while the process was starting
                process.kill()
        try:
            yield process
        finally:
            with self._lock:
                self._process = None
            process.kill()  # a no-op once it has ended
            process.wait()
            self._log_lines = self._log_file.read_text(errors="replace").splitlines()

    def _train(self, layout: ContainerLayout, process: subprocess.Popen[bytes]) -> None:
        """Let the algorithm run on the input now in place, killed at MaxRuntimeInSeconds."""
        limit = self.request.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
        started = self.status.start_time or now()
        assert process.stdin is not None  # started with a pipe
        try:
            process.stdin.write(container.GO)
            process.stdin.close()
        except OSError:
            pass  # it has ended already (killed by a stop): its exit says so below
        try:
            remaining = None if limit is None else limit - (now() - started).total_seconds()
            process.wait(timeout=None if remaining is None else max(remaining, 0))
        except subprocess.TimeoutExpired:
            raise _Stopped(
                "MaxRuntimeExceeded",
                f"Training job runtime exceeded MaxRuntimeInSeconds provided ({limit} s)",
            ) from None
        if self._stop_requested.is_set():
            raise _Stopped("Stopped", "training job stopped by request")
        if process.returncode != 0:
            raise JobFailure(f"AlgorithmError: {_failure_message(layout, process.returncode)}")


class _Stopped(Exception):
    """The job ends Stopped: by request, or because it ran out of time."""

    def __init__(self, secondary_status: str, message: str) -> None:
        super().__init__(message)
        self.secondary_status = secondary_status


def _failure_message(layout: ContainerLayout, returncode: int) -> str:
    if layout.failure_file.exists():
        return layout.failure_file.read_text(errors="replace").strip()
    return f"the algorithm exited with code {returncode} without writing a failure reason"


def _download_channel(s3: Any, channel: Mapping[str, Any], target: Path) -> None:
    """Every object under the channel's S3 prefix, keeping key paths below the prefix."""
    name = channel["ChannelName"]
    source = channel["DataSource"].get("S3DataSource")
    if source is None or source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise JobFailure(
            f"ClientError: channel {name}: only S3Prefix S3 data sources are supported"
        )
    bucket, prefix = split_s3_uri(source["S3Uri"])
    target.mkdir(parents=True, exist_ok=True)
    found = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith("/"):
                continue  # a "folder" marker object holds no data
            relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
            destination = target / relative
            if target.resolve() not in destination.resolve().parents:
                raise JobFailure(
                    f"ClientError: channel {name}: object key {key!r} escapes its prefix"
                )
            destination.parent.mkdir(parents=True, exist_ok=True)
            download_object(s3, bucket, key, destination)
            found += 1
    if not found:
        raise JobFailure(
            f"ClientError: Data download failed: no S3 objects found under S3 URL "
            f"{source['S3Uri']!r} given for input data source {name}"
        )


def _upload_model(s3: Any, layout: ContainerLayout, request: Mapping[str, Any]) -> str:
    """Pack /opt/ml/model as model.tar.gz and put it under the output path, with the job's key."""
    output = request["OutputDataConfig"]
    bucket, prefix = split_s3_uri(output["S3OutputPath"])
    key = "/".join(part for part in (prefix.strip("/"), request["TrainingJobName"]) if part)
    key += "/output/model.tar.gz"
    archive = layout.root / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(layout.model_dir.iterdir()):
            tar.add(path, arcname=path.name)
    encryption = (
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": output["KmsKeyId"]}
        if output.get("KmsKeyId")
        else {}
    )
    with archive.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, **encryption)
    return f"s3://{bucket}/{key}"


def start_training_job(
    request: Mapping[str, Any],
    role_access: RoleAccess,
    on_status: StatusObserver | None = None,
    work_root: Path | None = None,
    algorithm: Sequence[str] | None = None,
) -> TrainingJob:
    """Start `request` (CreateTrainingJob's parameters) in the background; poll the result."""
    return TrainingJob(request, role_access, on_status, work_root, algorithm).start()
