"""Promise 4: after approval the production endpoint is InService and answers predictions
that are probabilities equal to the artifact's own offline predictions; after a rejection
there is no endpoint."""

from __future__ import annotations

import time

import numpy as np
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError

from harness.deploy import Deployment
from harness.deploy.pipeline import PipelineRun
from harness.targets import Capability, Target

pytestmark = [
    pytest.mark.promise(4),
    pytest.mark.requires(
        Capability.RUNS_PIPELINE, Capability.RUNS_LAMBDA, Capability.HOSTS_ENDPOINTS
    ),
]
IN_SERVICE_BOUND_S = 60.0  # after the pipeline ended; the deploy function already waited
TOLERANCE = 1e-5  # float32 text round trip


def _endpoint(target: Target, name: str) -> dict | None:
    sagemaker = target.client("sagemaker", target.session("production"))
    try:
        return sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as error:
        if "Could not find" in str(error):
            return None
        raise


def test_endpoint_in_service_within_bound(
    pipeline_run: PipelineRun,
    deployment: Deployment,
    harness_target: Target,
    approval_expected: bool,
) -> None:
    name = deployment.settings.endpoint_name
    if not approval_expected:
        assert _endpoint(harness_target, name) is None, (
            f"endpoint {name} exists although the approval was rejected: the deploy stage "
            "must not run without approval"
        )
        return
    deadline = time.monotonic() + IN_SERVICE_BOUND_S
    endpoint = _endpoint(harness_target, name)
    while endpoint is not None and endpoint["EndpointStatus"] != "InService":
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
        endpoint = _endpoint(harness_target, name)
    assert endpoint is not None, f"no endpoint {name} in production after the pipeline ran"
    assert endpoint["EndpointStatus"] == "InService", (
        f"endpoint {name} is {endpoint['EndpointStatus']} after {IN_SERVICE_BOUND_S:.0f} s: "
        f"{endpoint.get('FailureReason', '')}. The hosting role must be able to read and "
        "decrypt the model (bucket policy ReadOnlyByProductionReaders, key policy)"
    )


def test_predictions_match_the_artifact(
    pipeline_run: PipelineRun,
    deployment: Deployment,
    harness_target: Target,
    booster: xgb.Booster,
    holdout: tuple[np.ndarray, np.ndarray, list[str]],
    approval_expected: bool,
) -> None:
    if not approval_expected:
        pytest.skip("the approval was rejected (--reject-approval): no endpoint to ask")
    _, features, rows = holdout
    runtime = harness_target.client("sagemaker-runtime", harness_target.session("production"))
    response = runtime.invoke_endpoint(
        EndpointName=deployment.settings.endpoint_name,
        ContentType="text/csv",
        Body="\n".join(rows).encode(),
    )
    answered = np.array(
        [float(v) for v in response["Body"].read().decode().replace("\n", ",").split(",") if v]
    )
    offline = booster.predict(xgb.DMatrix(features))
    assert answered.shape == offline.shape, (
        f"endpoint answered {answered.shape[0]} values for {offline.shape[0]} rows"
    )
    assert np.all((answered >= 0) & (answered <= 1)), "predictions are not probabilities"
    worst = float(np.max(np.abs(answered - offline)))
    assert worst <= TOLERANCE, (
        f"endpoint predictions differ from the artifact's offline predictions by up to "
        f"{worst:.2e}: the endpoint does not serve the model training produced"
    )
