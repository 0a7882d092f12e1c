"""Stuck-step drills: a step that never ends (``HARNESS_FAULT``) must fail the run within that
step's bound (shortened for the drill with ``HARNESS_BOUND_<STEP>``), naming the stuck step and
how long it was waited for; teardown then completes and its leak check finds nothing.

- ``stack-hangs:<type>``: a resource whose create never returns. Teardown abandons the stuck
  create and deletes what it made; the target stops within its own bound naming the worker
  still stuck.
- ``training-hangs``: the training job's algorithm never ends. The state machine's
  ``createTrainingJob.sync`` gives up at the training job's bound and stops the job, so the
  pipeline's training stage fails naming the job; the stopped job is joined on stop.
- ``endpoint-hangs``: the endpoint's container never passes its ping health check. The endpoint
  fails at its start bound naming itself, the deploy function reports that to the pipeline;
  nothing of it is left running on stop.

The training and endpoint drills need the pipeline up to that step (the endpoint one a whole
training run first): they are nightly.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.targets.local.faults import VARIABLE
from tests.drills.suite import run_suite
from tests.drills.test_fault_drills import _failures

STEP_BOUND_S = 5
STOP_BOUND_S = 1
STOPPED_WITH_WORKERS = "local target stopped after"


@dataclass(frozen=True)
class Stuck:
    """A run with ``fault`` in, the checks ``selected``, and what it must end saying."""

    fault: str
    bound: str  # the HARNESS_BOUND_* variable of the stuck step
    selected: str  # -k of the suite: the checks that see the step fail
    named: str  # a pattern every failure's message must match
    within_s: float  # the whole run: process and target start, the steps before, the bound,
    # teardown and stop


def _run(stuck: Stuck, report: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    completed = run_suite(
        report,
        "-k",
        stuck.selected,
        env={
            VARIABLE: stuck.fault,
            stuck.bound: str(STEP_BOUND_S),
            "HARNESS_BOUND_STOP": str(STOP_BOUND_S),
        },
    )
    return completed, time.monotonic() - began


def _assert_failed_naming_and_torn_down(
    stuck: Stuck, report: Path, completed: subprocess.CompletedProcess[str], elapsed: float
) -> None:
    output = completed.stdout[-3000:] + completed.stderr[-3000:]
    assert completed.returncode == 1, output
    assert elapsed < stuck.within_s, output
    failures = _failures(report / "junit.xml")
    assert failures, output
    assert all(re.search(stuck.named, message) for message in failures.values()), failures
    summary = (report / "summary.md").read_text()
    assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]


def test_a_stuck_stack_resource_fails_the_run_naming_it_and_teardown_completes(
    tmp_path: Path,
) -> None:
    stuck = Stuck(
        "stack-hangs:AWS::S3::Bucket",
        "HARNESS_BOUND_STACK_OPERATION",
        "default_encryption",
        re.escape(
            f"stack mlops-shared-services to reach CREATE_COMPLETE: gave up after {STEP_BOUND_S} "
            "s (bound); still CREATE_IN_PROGRESS, waiting on ArtifactBucket CREATE_IN_PROGRESS"
        ),
        within_s=90.0,
    )
    completed, elapsed = _run(stuck, tmp_path)
    _assert_failed_naming_and_torn_down(stuck, tmp_path, completed, elapsed)
    assert f"{STOPPED_WITH_WORKERS} 1 s per kind of worker with these still running: " in (
        completed.stderr
    ), completed.stderr[-2000:]
    assert "stack operation mlops-shared-services" in completed.stderr


RUNTIMES = {
    "training": Stuck(
        "training-hangs",
        "HARNESS_BOUND_TRAINING_JOB",
        "test_execution_status",
        rf"Train/\S+ Failed: Execution \S+ FAILED: States.Timeout training job mlops-\S+ to end: "
        rf"gave up after {STEP_BOUND_S} s \(bound\)",
        within_s=180.0,
    ),
    "endpoint": Stuck(
        "endpoint-hangs",
        "HARNESS_BOUND_ENDPOINT_START",
        "test_execution_status",
        r"/\S+ Failed: DeployError: endpoint mlops-endpoint is Failed: The primary container "
        r"did not pass the ping health check: endpoint mlops-endpoint to pass its ping health "
        rf"check \(GET /ping\): gave up after {STEP_BOUND_S} s \(bound\)",
        within_s=240.0,
    ),
}


@pytest.mark.nightly
@pytest.mark.parametrize("step", sorted(RUNTIMES))
def test_a_stuck_runtime_fails_the_run_naming_it_and_stop_joins_its_worker(
    step: str, tmp_path: Path
) -> None:
    stuck = RUNTIMES[step]
    completed, elapsed = _run(stuck, tmp_path)
    _assert_failed_naming_and_torn_down(stuck, tmp_path, completed, elapsed)
    assert STOPPED_WITH_WORKERS not in completed.stderr, completed.stderr[-2000:]
