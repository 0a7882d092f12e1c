"""The training stack deployed in B over the A/B/C stacks of ../conftest.py, the data
published in A as the data publisher role, and one real training run per test module."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost as xgb

from harness.deploy.deploy import DATA_DIR, Deployment, publish_data
from harness.deploy.settings import Settings
from harness.render import PIPELINE_DIR, Wiring, render_training_config
from harness.runtimes.endpoint.model import load_booster
from harness.targets.local import LocalTarget
from harness.templates import load_template

INPUT = json.loads((PIPELINE_DIR / "training-input.json").read_text())
SAGEMAKER = "sagemaker.amazonaws.com"


def wait_for(probe: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60) -> Any:
    """Poll ``probe`` until ``done`` accepts its answer; that answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)  # its work finishes in tens of milliseconds


@dataclass(frozen=True)
class Stacks:
    """What the tests need of the deployed stacks."""

    outputs: dict[str, dict[str, str]]
    wiring: Wiring
    state_machine_arn: str

    @property
    def bucket(self) -> str:
        return self.wiring.ArtifactBucketName

    @property
    def key_arn(self) -> str:
        return self.wiring.ArtifactKeyArn


@pytest.fixture(scope="module")
def stacks(target: LocalTarget, outputs: dict[str, dict[str, str]]) -> Stacks:
    wiring = Wiring.from_outputs({"Prefix": "mlops", "Region": target.region}, outputs)
    config = render_training_config(wiring)
    template = load_template(PIPELINE_DIR / "training-stack.yaml")
    training = target.deploy_stack(
        "training",
        wiring.TrainingStackName,
        json.dumps(template),
        config["Parameters"],
        role_arn=wiring.TrainingCloudFormationRoleArn,
    )
    deployment = Deployment(Settings.for_target(target), outputs, wiring, {})
    publish_data(target, deployment, DATA_DIR, lambda _message: None)
    return Stacks(outputs, wiring, training["StateMachineArn"])


def run_training(target: LocalTarget, stacks: Stacks, name: str) -> dict[str, Any]:
    """Start the training state machine as B's deployer and wait for the execution to end."""
    sfn = target.client("stepfunctions", target.session("training"))
    arn = sfn.start_execution(
        stateMachineArn=stacks.state_machine_arn, name=name, input=json.dumps(INPUT)
    )["executionArn"]
    return wait_for(
        lambda: sfn.describe_execution(executionArn=arn),
        lambda described: described["status"] != "RUNNING",
    )


@pytest.fixture(scope="module")
def trained(target: LocalTarget, stacks: Stacks) -> dict[str, Any]:
    """DescribeExecution of one successful training run (its output is the task's)."""
    return run_training(target, stacks, "mlops-train-1")


def offline_predictions(
    target: LocalTarget, hosting_role: str, model_url: str, features: np.ndarray
) -> list[float]:
    """The model's predictions computed here from its artifact (read as C's hosting role)."""
    hosting = target.session_as_service(hosting_role, SAGEMAKER)
    bucket, key = model_url.removeprefix("s3://").split("/", 1)
    body = target.client("s3", hosting).get_object(Bucket=bucket, Key=key)["Body"].read()
    model_dir = Path(target.workdir or ".") / f"offline-{abs(hash(model_url))}"
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        archive.extractall(model_dir, filter="data")
    return load_booster(model_dir).predict(xgb.DMatrix(features)).tolist()


def holdout() -> tuple[np.ndarray, bytes]:
    """The held-out features and the CSV text of them (the label column dropped)."""
    lines = (DATA_DIR / "holdout.csv").read_text().splitlines()
    text = "\n".join(line.split(",", 1)[1] for line in lines)
    return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2), text.encode()
