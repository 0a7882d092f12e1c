"""The admin API of a served local target: what a suite in another process needs of it.

``harness serve`` keeps the target in its own process; ``harness check --target local
--endpoint URL`` runs the suite in another. That suite needs, beyond the AWS API, what the
embedded target hands over in process: the credentials it issued (deployers, roots), sessions
as AWS service principals and forward access sessions (only the target can issue those, as
only AWS can), and the decision log by request id (the evidence of every verdict). They are
served under :data:`ADMIN_PATH` on the HTTPS listener only, to a bearer token made at start
and shown only to whoever started the server; the AWS API never sees these paths.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs

from harness.gateway.credentials import Credential
from harness.targets.local.decision_log import DecisionLog
from harness.targets.local.endpoints import ServiceRoleDenied

ADMIN_PATH = "/_harness/v1/"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_MAX_BODY = 64 * 1024


class _Refused(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > _MAX_BODY:
        raise _Refused("413 Payload Too Large", f"a request body is at most {_MAX_BODY} bytes")
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except ValueError as error:
        raise _Refused("400 Bad Request", f"the body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise _Refused("400 Bad Request", "the body must be a JSON object")
    return body


def _field(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _Refused("400 Bad Request", f"{name!r} must be a non-empty string")
    return value


class Served(Protocol):
    """What the admin API hands out of the target it serves (the embedded local target)."""

    accounts: Mapping[str, str]
    region: str

    @property
    def http_endpoint_url(self) -> str: ...
    @property
    def decision_log(self) -> DecisionLog: ...
    @property
    def log_path(self) -> Path | None: ...
    def deployer_credential(self, account: str) -> Credential: ...
    def root_credential(self, account: str) -> Credential: ...
    def assume_as_service(
        self, role_arn: str, service: str, session_name: str | None = None
    ) -> Credential: ...
    def forward_access(self, caller: Mapping[str, Any], service: str) -> Credential: ...


class AdminApi:
    """WSGI app for :data:`ADMIN_PATH`; every answer is JSON."""

    def __init__(self, target: Served, token: str) -> None:
        self._target = target
        self._token = token

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            document = self._answer(environ)
            status = "200 OK"
        except _Refused as refused:
            status, document = refused.status, {"error": str(refused)}
        payload = json.dumps(document).encode()
        start_response(
            status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _answer(self, environ: dict[str, Any]) -> dict[str, Any]:
        given = environ.get("HTTP_AUTHORIZATION", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {self._token}".encode()):
            raise _Refused("401 Unauthorized", "a bearer token of this server is required")
        route = (environ.get("REQUEST_METHOD", "GET"), environ["PATH_INFO"][len(ADMIN_PATH) :])
        target = self._target
        if route == ("GET", "target"):
            return self._description()
        if route == ("GET", "decisions"):
            request_id = parse_qs(environ.get("QUERY_STRING", "")).get("request_id", [None])[0]
            log = target.decision_log
            return {"entries": log.for_request(request_id) if request_id else log.entries()}
        if route == ("POST", "service-session"):
            body = _json_body(environ)
            try:
                credential = target.assume_as_service(
                    _field(body, "role_arn"), _field(body, "service"), body.get("session_name")
                )
            except ServiceRoleDenied as denied:
                raise _Refused("403 Forbidden", str(denied)) from denied
            return {"credentials": credential.as_sts()}
        if route == ("POST", "forward-access"):
            body = _json_body(environ)
            caller = body.get("caller")
            if not isinstance(caller, dict):
                raise _Refused("400 Bad Request", "'caller' must be credentials in STS's shape")
            try:
                credential = target.forward_access(caller, _field(body, "service"))
            except ValueError as refused:
                raise _Refused("403 Forbidden", str(refused)) from refused
            return {"credentials": credential.as_sts()}
        raise _Refused("404 Not Found", f"no admin call {route[0]} {ADMIN_PATH}{route[1]}")

    def _description(self) -> dict[str, Any]:
        """Everything that does not change while the target serves."""
        target = self._target
        ids = target.accounts.values()
        return {
            "region": target.region,
            "accounts": dict(target.accounts),
            "http_endpoint_url": target.http_endpoint_url,
            "deployers": {i: target.deployer_credential(i).as_sts() for i in ids},
            "roots": {i: target.root_credential(i).as_sts() for i in ids},
            "decision_log": str(target.decision_log.path),
            "log": None if target.log_path is None else str(target.log_path),
        }


def with_admin(aws: WsgiApp, admin: WsgiApp) -> WsgiApp:
    """``aws`` with :data:`ADMIN_PATH` answered by ``admin`` instead."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(ADMIN_PATH):
            return admin(environ, start_response)
        return aws(environ, start_response)

    return app
