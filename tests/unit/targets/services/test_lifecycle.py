"""Stopping the target ends the work its services started: nothing outlives it."""

from __future__ import annotations

import io
import json
import os
import threading
import zipfile

import pytest
from botocore.client import BaseClient

from harness.targets.local import LocalTarget

ACCOUNTS = {
    "shared-services": "444444444444",
    "training": "555555555555",
    "production": "666666666666",
}
SLOW = """
import time

def handler(event, context):
    time.sleep(0.1)  # still running when the target stops, just after the invoke
    return "slept"
"""
PID = """
import os

def handler(event, context):
    return os.getpid()
"""
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("slow.py", SLOW)
        archive.writestr("pid.py", PID)
    return buffer.getvalue()


def _runtime_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("lambda-event-")]


def _create(target: LocalTarget, name: str, handler: str) -> BaseClient:
    session = target.session("production")
    role = target.client("iam", session).create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST)
    )
    functions = target.client("lambda", session)
    functions.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler=handler,
        Code={"ZipFile": _code()},
    )
    return functions


def test_stop_waits_for_queued_invocations() -> None:
    with LocalTarget(accounts=ACCOUNTS) as target:
        functions = _create(target, "slow", "slow.handler")
        assert functions.invoke(FunctionName="slow", InvocationType="Event")["StatusCode"] == 202
        assert _runtime_threads() == ["lambda-event-slow"]

    assert _runtime_threads() == []


def test_a_warm_environment_serves_the_next_invocation_until_the_target_stops() -> None:
    with LocalTarget(accounts=ACCOUNTS) as target:
        functions = _create(target, "pid", "pid.handler")
        pids = [json.load(functions.invoke(FunctionName="pid")["Payload"]) for _ in range(2)]
        assert pids[0] == pids[1]  # the second ran in the first's environment
        os.kill(pids[0], 0)  # still there, warm

    with pytest.raises(ProcessLookupError):  # the target's stop ended it
        os.kill(pids[0], 0)
