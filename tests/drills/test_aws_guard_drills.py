"""The ``aws`` target's guards under the drills, with the embedded local target standing in for
AWS (reached only through profiles, as real accounts would be; see
tests/unit/targets_remote/conftest.py): a stuck stack resource fails the deploy within the
stack bound naming the stack and resource; SIGINT during deploy, and the run bound running out
(its alarm sends SIGTERM), interrupt the run. Each time teardown removes the run from
production, training, then shared services (what depends on A's key and bucket goes first) and
the leak check on every account is empty. In-process and quick: the default drills env.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.targets.aws import AwsSettings, AwsTarget, CostLimits
from harness.targets.base import StackFailed
from harness.targets.local import LocalTarget
from harness.targets.local.faults import VARIABLE
from tests.unit.targets_remote.conftest import profiles_of

RUN = "hdrill1"
TEMPLATE = json.dumps(
    {
        "Parameters": {"Prefix": {"Type": "String"}},
        "Resources": {
            "Data": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"BucketName": {"Fn::Sub": "${Prefix}-data-${AWS::AccountId}"}},
            },
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
        },
    }
)
STACK_BOUND_S = 2
ORDER = ("production", "training", "shared-services")  # the pipeline's accounts, torn down

main_thread_only = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal handlers can only be installed from the main thread",
)


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LocalTarget]:
    """A fresh local target per drill (a fault is read when it starts), its stop bound short:
    a stuck create it abandons must not hold the drill."""
    monkeypatch.setenv("HARNESS_BOUND_STOP", "0.5")
    with LocalTarget(workdir=tmp_path / "stand-in") as local:
        yield local


@contextmanager
def _aws_target(
    stand_in: LocalTarget, tmp_path: Path, max_run_seconds: float = 600.0
) -> Iterator[tuple[AwsTarget, list[str]]]:
    with profiles_of(stand_in, tmp_path) as access:
        said: list[str] = []
        settings = AwsSettings(
            allowed_accounts=dict(stand_in.accounts),
            access=access,
            run_id=RUN,
            region=stand_in.region,
            limits=CostLimits(max_run_seconds=max_run_seconds),
        )
        target = AwsTarget(settings, say=said.append)
        target.stack_poll_seconds = 0.1  # the stand-in finishes stacks in milliseconds
        yield target, said


def _deploy_everywhere(target: AwsTarget) -> None:
    for role in reversed(ORDER):  # as deploy does: A, then B and C
        target.deploy_stack(role, f"{RUN}-{role}", TEMPLATE, {"Prefix": f"{RUN}-{role[:5]}"})


def _assert_torn_down_in_order(target: AwsTarget, said: list[str], stand_in: LocalTarget) -> None:
    removing = [line.rsplit(" from ", 1)[1] for line in said if "removing run" in line]
    assert [role for role in removing if role in ORDER] == list(ORDER), said
    assert removing == list(reversed(target.account_roles)), said  # every account, once
    assert target.leaks == []
    for role in ORDER:
        cloudformation = stand_in.client("cloudformation", stand_in.session(role))
        live = [
            s["StackName"]
            for s in cloudformation.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        ]
        assert live == [], f"{role}: {live}"


def test_a_stuck_stack_resource_fails_the_aws_deploy_naming_it_and_teardown_completes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(VARIABLE, "stack-hangs:AWS::KMS::Key")
    monkeypatch.setenv("HARNESS_BOUND_STOP", "0.5")
    with (
        LocalTarget(workdir=tmp_path / "stand-in") as stand_in,
        _aws_target(stand_in, tmp_path) as (target, said),
    ):
        began = time.monotonic()
        with target:
            with monkeypatch.context() as bounded:
                bounded.setenv("HARNESS_BOUND_STACK_OPERATION", str(STACK_BOUND_S))
                with pytest.raises(StackFailed) as failed:
                    _deploy_everywhere(target)
            assert time.monotonic() - began < STACK_BOUND_S + 10
        assert str(failed.value).startswith(
            f"stack {RUN}-shared-services to reach CREATE_COMPLETE: gave up after "
            f"{STACK_BOUND_S} s (bound); still CREATE_IN_PROGRESS, waiting on Key "
            "CREATE_IN_PROGRESS"
        ), failed.value
        _assert_torn_down_in_order(target, said, stand_in)


@main_thread_only
def test_sigint_during_the_aws_deploy_tears_down_in_order_leaving_nothing(
    stand_in: LocalTarget, tmp_path: Path
) -> None:
    """SIGINT here; SIGTERM is what the run bound's alarm sends (below)."""
    with _aws_target(stand_in, tmp_path) as (target, said):
        before = signal.getsignal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt, match="SIGINT"), target:
            _deploy_everywhere(target)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the signal interrupts here
        assert signal.getsignal(signal.SIGINT) is before
        _assert_torn_down_in_order(target, said, stand_in)


@main_thread_only
def test_the_run_bound_interrupts_an_aws_run_that_overstays_and_it_is_torn_down(
    stand_in: LocalTarget, tmp_path: Path
) -> None:
    with _aws_target(stand_in, tmp_path, max_run_seconds=3.0) as (target, said):
        began = time.monotonic()
        with pytest.raises(KeyboardInterrupt, match="SIGTERM"), target:
            _deploy_everywhere(target)
            time.sleep(30)  # the run bound's alarm interrupts here
        assert time.monotonic() - began < 20
        _assert_torn_down_in_order(target, said, stand_in)
