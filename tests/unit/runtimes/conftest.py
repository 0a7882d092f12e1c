"""Fixtures: moto's server on loopback and real boto3 sessions pointed at it.

Each test gets its own moto account (`x-moto-account-id`), so tests share one moto process
without sharing state. The runtimes receive an `AwsAccess` exactly as the local target builds
one: a session with the role's credentials, and the endpoint URL. Fake credentials and the
loopback-only socket guard come from tests/unit/conftest.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from harness.runtimes.aws import AwsAccess

REGION = "us-east-1"
INFRA = Path(__file__).resolve().parents[3] / "infra"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
_accounts = itertools.count(200000000001)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def access_in(moto_url: str, account_id: str) -> AwsAccess:
    """An AwsAccess acting in `account_id` on moto, as the local target hands runtimes one."""
    session = boto3.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name=REGION,
    )

    def add_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    session.events.register("before-sign", add_account)
    return AwsAccess(session=session, endpoint_url=moto_url)


@pytest.fixture
def access(moto_url: str) -> AwsAccess:
    return access_in(moto_url, str(next(_accounts)))
