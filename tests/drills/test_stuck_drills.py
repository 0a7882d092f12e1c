"""Stuck-step drills: a resource whose create never returns (``HARNESS_FAULT=stack-hangs:<type>``)
must fail the run within the stack operation's bound (shortened for the drill with
``HARNESS_BOUND_STACK_OPERATION``), naming the stack and the stuck resource; teardown then
abandons the stuck create, deletes what it made, and leaves nothing; the target stops within
its own bound naming the worker still stuck.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.targets.local.faults import VARIABLE
from tests.drills.suite import run_suite
from tests.drills.test_fault_drills import _failures

STACK_BOUND_S = 5
STOP_BOUND_S = 1
# The run: process start, target start, A's first resources, the bound, teardown, stop.
RUN_WITHIN_S = 90.0


def test_a_stuck_stack_resource_fails_the_run_naming_it_and_teardown_completes(
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    completed = run_suite(
        tmp_path,
        "-k",
        "default_encryption",
        env={
            VARIABLE: "stack-hangs:AWS::S3::Bucket",
            "HARNESS_BOUND_STACK_OPERATION": str(STACK_BOUND_S),
            "HARNESS_BOUND_STOP": str(STOP_BOUND_S),
        },
    )
    elapsed = time.monotonic() - began
    assert completed.returncode == 1, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert elapsed < RUN_WITHIN_S
    failures = _failures(tmp_path / "junit.xml")
    assert failures, completed.stdout[-3000:]
    named = (
        f"stack mlops-shared-services to reach CREATE_COMPLETE: gave up after {STACK_BOUND_S} s "
        "(bound); still CREATE_IN_PROGRESS, waiting on ArtifactBucket CREATE_IN_PROGRESS"
    )
    assert all(named in message for message in failures.values()), failures
    summary = (tmp_path / "summary.md").read_text()
    assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]
    assert "local target stopped after 1 s per kind of worker with these still running: " in (
        completed.stderr
    ), completed.stderr[-2000:]
    assert "stack operation mlops-shared-services" in completed.stderr
