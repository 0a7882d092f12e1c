"""SCP drills: a team's guardrail attached with ``--scp`` to B and C before deploy. One that
denies training in the run's region must fail the run at Train, naming the SCP and its
statement; the same guardrail allowing the run's region must let the pipeline through.

The SCP example this rests on: AWS Organizations user guide, "Deny access to AWS based on the
requested AWS Region"
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.drills.suite import REPO, run_suite
from tests.drills.test_fault_drills import _failures

# Evidence that the suite or the proof catches a fault: `tox -e evidence` runs these.
pytestmark = pytest.mark.evidence

EXAMPLES = REPO / "policies" / "examples"
SELECTION = "test_training or test_pipeline"


def _run(scp: Path, report: Path) -> subprocess.CompletedProcess[str]:
    return run_suite(report, "-k", SELECTION, "--allow-unproven", "--scp", str(scp))


def test_scp_denying_training_in_the_region_fails_at_train_naming_it(tmp_path: Path) -> None:
    completed = _run(EXAMPLES / "scp-training-only-in-eu-west-1.json", tmp_path)
    assert completed.returncode == 1, completed.stdout[-3000:] + completed.stderr[-3000:]
    failures = _failures(tmp_path / "junit.xml")
    train = failures["test_stage_outcome[Train]"]
    execution = failures["test_execution_succeeded"]
    for message in (train, execution):
        assert "sagemaker:CreateTrainingJob" in message, message
        assert "statement 'DenyTrainingOutsideEuWest1'" in message, message
        assert "SCP 'scp-training-only-in-eu-west-1'" in message, message
    assert "test_stage_outcome[DeployTrainingStack]" not in failures  # it failed at Train
    summary = (tmp_path / "summary.md").read_text()
    assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]


@pytest.mark.parametrize("scp", ["scp-training-only-in-us-east-1.json"])
def test_scp_allowing_the_region_lets_the_pipeline_through(scp: str, tmp_path: Path) -> None:
    completed = _run(EXAMPLES / scp, tmp_path)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert _failures(tmp_path / "junit.xml") == {}
