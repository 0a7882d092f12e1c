"""Stopping the target ends the work its services started: nothing outlives it."""

from __future__ import annotations

import io
import json
import threading
import zipfile

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
    return buffer.getvalue()


def _runtime_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("lambda-event-")]


def test_stop_waits_for_queued_invocations() -> None:
    with LocalTarget(accounts=ACCOUNTS) as target:
        session = target.session("production")
        role = target.client("iam", session).create_role(
            RoleName="slow", AssumeRolePolicyDocument=json.dumps(TRUST)
        )
        functions = target.client("lambda", session)
        functions.create_function(
            FunctionName="slow",
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="slow.handler",
            Code={"ZipFile": _code()},
        )
        assert functions.invoke(FunctionName="slow", InvocationType="Event")["StatusCode"] == 202
        assert _runtime_threads() == ["lambda-event-slow"]

    assert _runtime_threads() == []
