"""A loopback WSGI server running the gateway's verifier and mapper, and real boto3 clients.

The server records what it saw for each request and answers with the gateway's own
``AccessDenied`` rendering, so every test also exercises the error shape the client parses.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wsgi import get_input_stream

from harness.gateway.credentials import Credential, CredentialStore
from harness.gateway.errors import (
    ErrorKind,
    GatewayError,
    render_access_denied,
    render_error,
)
from harness.gateway.operations import OperationCall, OperationMapper, UnknownOperationError
from harness.gateway.sigv4 import VerifiedRequest, parse_signature, verify
from harness.gateway.tls import TlsMaterial, generate_tls_material
from harness.targets.sessions import new_session
from tests.unit.serving import NoDelayHandler, served

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
REGION = "eu-west-1"
DENY_REASON = "no identity-based policy allows the action"
REQUEST_ID = "c0ffee00-0000-4000-8000-000000000000"


@dataclass
class Seen:
    """What the loopback gateway made of one request."""

    environ: dict[str, Any]
    body: bytes
    verified: VerifiedRequest | None = None
    call: OperationCall | None = None
    error: GatewayError | None = None


class LoopbackGateway:
    """WSGI app: authenticate, identify, record, then deny in the service's own error shape."""

    def __init__(self, store: CredentialStore, mapper: OperationMapper) -> None:
        self.store = store
        self.mapper = mapper
        self.seen: list[Seen] = []
        self.forced_error: ErrorKind | None = None  # answer every request with this instead
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = get_input_stream(environ).read()
        seen = Seen(environ=dict(environ), body=body)
        with self._lock:
            self.seen.append(seen)
        method = environ["REQUEST_METHOD"]
        try:
            info = parse_signature(environ)
        except GatewayError:
            info = None
        signing_name, region = (info.service, info.region) if info else ("s3", REGION)
        try:
            seen.call = self.mapper.identify(environ, body, signing_name, region)
            protocol = seen.call.protocol
        except UnknownOperationError as exc:
            protocol = exc.protocol
        if self.forced_error is not None:
            return render_error(protocol, self.forced_error, request_id=REQUEST_ID, method=method)(
                environ, start_response
            )
        try:
            seen.verified = verify(environ, body, self.store)
        except GatewayError as exc:
            seen.error = exc
            return render_error(
                protocol, exc.kind, exc.message, request_id=REQUEST_ID, method=method
            )(environ, start_response)
        assert seen.call is not None, "signed request mapped to no operation"
        response = render_access_denied(
            protocol,
            caller_arn=seen.verified.credential.arn,
            action=f"{seen.call.signing_name}:{seen.call.operation}",
            resource=None,
            reason=DENY_REASON,
            request_id=REQUEST_ID,
            method=method,
        )
        return response(environ, start_response)

    def last(self) -> Seen:
        with self._lock:
            return self.seen[-1]


def _serve(app: LoopbackGateway, tls: TlsMaterial | None) -> Iterator[str]:
    context = None
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert, tls.key)
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=NoDelayHandler, ssl_context=context
    )
    scheme = "https" if tls is not None else "http"
    with served(server):
        yield f"{scheme}://127.0.0.1:{server.server_port}"


@pytest.fixture(autouse=True, scope="session")
def _quiet_werkzeug() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    return generate_tls_material(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def mapper() -> OperationMapper:
    return OperationMapper()


@pytest.fixture(scope="session")
def store() -> CredentialStore:
    return CredentialStore()


@pytest.fixture(scope="session")
def gateway(store: CredentialStore, mapper: OperationMapper) -> LoopbackGateway:
    return LoopbackGateway(store, mapper)


@pytest.fixture(scope="session")
def http_endpoint(gateway: LoopbackGateway) -> Iterator[str]:
    yield from _serve(gateway, None)


@pytest.fixture(scope="session")
def https_endpoint(gateway: LoopbackGateway, tls_material: TlsMaterial) -> Iterator[str]:
    yield from _serve(gateway, tls_material)


@pytest.fixture(scope="session")
def deployer(store: CredentialStore) -> Credential:
    return store.issue_long_term(f"arn:aws:iam::{ACCOUNT_A}:user/deployer")


@pytest.fixture(scope="session")
def role_session(store: CredentialStore) -> Credential:
    return store.issue_role_session(
        f"arn:aws:iam::{ACCOUNT_B}:role/service-role/TrainingRole", "training-job"
    )


ClientFactory = Callable[..., Any]


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One session for all clients: building a session per client costs ~0.3 s. On the
    shared botocore loader, the service models other tests loaded are read once."""
    return new_session()


@pytest.fixture(scope="session")
def make_client(
    boto_session: boto3.session.Session,
    http_endpoint: str,
    https_endpoint: str,
    tls_material: TlsMaterial,
    role_session: Credential,
) -> ClientFactory:
    """``make_client(service, secure=True, credential=role_session, **config)``: one client
    per distinct set of arguments, reused (making one costs more than the calls the tests
    make with it; the tests only call it, never change it)."""
    made: dict[tuple[Any, ...], Any] = {}

    def factory(
        service: str,
        *,
        secure: bool = True,
        credential: Credential = role_session,
        secret: str | None = None,
        token: str | None = None,
        **config: Any,
    ) -> Any:
        key = (service, secure, credential, secret, token, repr(sorted(config.items())))
        if key not in made:
            made[key] = _client(service, secure, credential, secret, token, config)
        return made[key]

    def _client(
        service: str,
        secure: bool,
        credential: Credential,
        secret: str | None,
        token: str | None,
        config: dict[str, Any],
    ) -> Any:
        return boto_session.client(
            service,
            region_name=REGION,
            endpoint_url=https_endpoint if secure else http_endpoint,
            verify=str(tls_material.ca_bundle) if secure else False,
            aws_access_key_id=credential.access_key_id,
            aws_secret_access_key=secret or credential.secret_access_key,
            aws_session_token=token or credential.session_token,
            config=Config(
                retries={"max_attempts": 1, "mode": "standard"},
                s3={"addressing_style": "path"},
                **config,
            ),
        )

    return factory
