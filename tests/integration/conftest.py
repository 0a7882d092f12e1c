"""Fixtures of the compliance suite beyond the plugin's: what training produced, read back
through the AWS APIs (Step Functions, SageMaker, S3) as the roles that may read it."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest
import xgboost as xgb

from harness.deploy import Deployment
from harness.deploy.pipeline import PipelineRun
from harness.deploy.principals import PrincipalSessions
from harness.targets import Target
from tests.integration.training import HOLDOUT, MODEL_FILE, TrainingResult


@pytest.fixture(scope="session")
def training_result(
    pipeline_run: PipelineRun, deployment: Deployment, harness_target: Target
) -> TrainingResult:
    training = harness_target.session("training")
    cloudformation = harness_target.client("cloudformation", training)
    stack = cloudformation.describe_stacks(StackName=deployment.settings.training_stack_name)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}
    machine = outputs["StateMachineArn"]
    stepfunctions = harness_target.client("stepfunctions", training)
    executions = stepfunctions.list_executions(stateMachineArn=machine)["executions"]
    assert executions, f"state machine {machine} has no execution after the pipeline ran"
    latest = max(executions, key=lambda e: e["startDate"])
    execution = stepfunctions.describe_execution(executionArn=latest["executionArn"])
    output = json.loads(execution.get("output") or "{}")
    job = {}
    if output.get("TrainingJobName"):
        job = harness_target.client("sagemaker", training).describe_training_job(
            TrainingJobName=output["TrainingJobName"]
        )
    return TrainingResult(execution, output, job)


@pytest.fixture(scope="session")
def model_bytes(
    training_result: TrainingResult, deployment: Deployment, principals: PrincipalSessions
) -> bytes:
    """``model.tar.gz`` read as the production hosting role (the role that serves it)."""
    uri = training_result.output["ModelArtifacts"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    hosting = deployment.outputs["production"]["SageMakerHostingRoleArn"]
    s3 = principals.client(hosting, "s3")
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.fixture(scope="session")
def booster(model_bytes: bytes) -> xgb.Booster:
    """The model, loaded as SageMaker's XGBoost container loads it."""
    with tarfile.open(fileobj=io.BytesIO(model_bytes), mode="r:gz") as archive:
        member = archive.extractfile(MODEL_FILE)
        assert member is not None, f"model.tar.gz has no {MODEL_FILE}: {archive.getnames()}"
        loaded = xgb.Booster()
        loaded.load_model(bytearray(member.read()))
    return loaded


@pytest.fixture(scope="session")
def holdout() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Held-out labels, features, and each row's feature text as sent to the endpoint."""
    lines = HOLDOUT.read_text().splitlines()
    rows = np.loadtxt(lines, delimiter=",", ndmin=2)
    features_text = [line.split(",", 1)[1] for line in lines]
    return rows[:, 0], rows[:, 1:], features_text
