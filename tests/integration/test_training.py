"""Promise 3: training produces a model artifact that exists, is SSE-KMS under the key, loads,
and scores the held-out rows well."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost as xgb

from harness.deploy import Deployment
from harness.deploy.principals import PrincipalSessions
from harness.deploy.training import TrainingResult
from harness.targets import Capability
from tests.integration.training import auc

pytestmark = [
    pytest.mark.promise(3),
    pytest.mark.requires(Capability.RUNS_PIPELINE, Capability.RUNS_TRAINING),
]

# The data are generated with a clear signal (harness.training_data); a model that learned it
# scores far above this; a broken one (shuffled labels, wrong channel) near 0.5.
AUC_BOUND = 0.85


def test_execution_succeeded(training_result: TrainingResult) -> None:
    execution = training_result.execution
    assert execution["status"] == "SUCCEEDED", (
        f"state machine execution {execution['executionArn']} is {execution['status']}: "
        f"{execution.get('error', '')} {execution.get('cause', '')}. Look at the training "
        "job's FailureReason and the training role's access to data/ and models/"
    )
    assert training_result.job.get("TrainingJobStatus") == "Completed", training_result.job.get(
        "FailureReason"
    )


def test_artifact_is_sse_kms_under_the_key(
    training_result: TrainingResult, deployment: Deployment, principals: PrincipalSessions
) -> None:
    """Inspected as the hosting role, which must be able to read it to serve it."""
    uri = training_result.output["ModelArtifacts"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    assert bucket == deployment.bucket, f"model written to {bucket}, not {deployment.bucket}"
    hosting = deployment.outputs["production"]["SageMakerHostingRoleArn"]
    head = principals.client(hosting, "s3").head_object(Bucket=bucket, Key=key)
    assert (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")) == (
        "aws:kms",
        deployment.key_arn,
    ), (
        f"{uri} is {head.get('ServerSideEncryption')} under {head.get('SSEKMSKeyId')}; "
        "set OutputDataConfig.KmsKeyId to the artifact key in the training stack"
    )


def test_model_scores_holdout_above_bound(
    booster: xgb.Booster, holdout: tuple[np.ndarray, np.ndarray, list[str]]
) -> None:
    labels, features, _ = holdout
    predictions = booster.predict(xgb.DMatrix(features))
    score = auc(labels, predictions)
    assert score > AUC_BOUND, (
        f"the trained model's AUC on infra/data/holdout.csv is {score:.3f}, not above "
        f"{AUC_BOUND}: check the hyperparameters in infra/pipeline/training-input.json and "
        "that the train channel is data/train/"
    )
