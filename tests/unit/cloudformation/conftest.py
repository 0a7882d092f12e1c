"""Fixtures: moto's server and our CloudFormation API, both on loopback, driven by real boto3
clients with fake credentials. Each test gets its own account id (moto's `x-moto-account-id`
header), so tests share one moto process without sharing state. Fake credentials and the
loopback-only socket guard come from tests/unit/conftest.py."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config

from harness.cloudformation.api import CloudFormationApi
from harness.cloudformation.service import Caller, CloudFormationService
from tests.unit.serving import moto_server, served

REGION = "eu-west-1"
_accounts = itertools.count(100000000001)

Clients = Callable[[str], BaseClient]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = moto_server()
    with served(server):
        yield f"http://127.0.0.1:{server.server_port}"


@functools.cache
def client_for(moto_url: str, account_id: str, service: str) -> BaseClient:
    """A boto3 client on moto, acting in `account_id`: made once for each, as the engine asks
    for a client at every resource operation (~10 ms of CPU each; no test changes one)."""
    client = boto3.client(
        service,
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )

    def add_account(request, **_kwargs) -> None:  # type: ignore[no-untyped-def]
        request.headers["x-moto-account-id"] = account_id

    client.meta.events.register("before-sign", add_account)
    return client


def new_account_id() -> str:
    """A moto account no other test uses."""
    return str(next(_accounts))


@pytest.fixture
def account_id() -> str:
    return new_account_id()


@pytest.fixture
def clients(moto_url: str, account_id: str) -> Clients:
    """Client factory for this test's account."""
    return lambda service: client_for(moto_url, account_id, service)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep test output clean."""


@pytest.fixture(scope="session")
def cloudformation_service(moto_url: str) -> CloudFormationService:
    """Stacks act in the caller's account (access key id = account id in these tests)."""

    def clients_for(caller: Caller, role_arn: str | None) -> Clients:
        return lambda service: client_for(moto_url, caller.account_id, service)

    return CloudFormationService(clients_for)


@pytest.fixture(scope="session")
def cloudformation_url(cloudformation_service: CloudFormationService) -> Iterator[str]:
    api = CloudFormationApi(cloudformation_service, account_of=lambda key: key or "0")
    server: WSGIServer = make_server("127.0.0.1", 0, api, handler_class=_QuietHandler)
    with served(server):
        yield f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def cloudformation(cloudformation_url: str, account_id: str) -> BaseClient:
    """A real boto3 CloudFormation client on our API, signing as this test's account."""
    return cloudformation_client(cloudformation_url, account_id)


def cloudformation_client(cloudformation_url: str, account_id: str) -> BaseClient:
    """A real boto3 CloudFormation client on our API, signing as ``account_id``."""
    return boto3.client(
        "cloudformation",
        region_name=REGION,
        endpoint_url=cloudformation_url,
        aws_access_key_id=account_id,
        aws_secret_access_key="testing",
        aws_session_token=None,
        config=Config(retries={"max_attempts": 1}),
    )


FAST = {"Delay": 0.05, "MaxAttempts": 1200}
"""Waiter settings: poll every 50 ms (CloudFormation's waiters wait 30 s) for up to a minute;
stacks on our API finish in tens of milliseconds, so each wait slept a whole 0.2 s step."""
