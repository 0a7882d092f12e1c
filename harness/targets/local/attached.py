"""A ``local`` target served by another process (``harness serve``), reached by its endpoint.

``harness deploy|check|destroy --target local --endpoint URL`` take this instead of starting
an embedded target: the deployment then outlives each command, as on real accounts, while the
suite keeps every piece of evidence the embedded target gives (the served target's decision
log, its service principals), through the admin API (:mod:`harness.targets.local.admin`).
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3

from harness.deadlines import bound
from harness.targets.local.admin import ADMIN_PATH
from harness.targets.local.endpoints import LocalEndpoints, ServiceRoleDenied
from harness.targets.local_environment import (
    CA_VARIABLE,
    ENDPOINT_VARIABLE,
    TOKEN_VARIABLE,
    attached_problems,
)

ADMIN_CONNECTIONS = 8
"""Connections kept open to the served target, at least one per thread of the suite that
calls it (the prober's and the main one); a thread beyond them gets a connection of its own
that is closed after its call."""


class AdminCallFailed(RuntimeError):
    """The served target refused or failed an admin call; the message says which and why."""


class ServedDecisionLog:
    """The served target's decision log, read by request id as the embedded one is."""

    def __init__(self, call: Any, path: str) -> None:
        self._call = call
        self.path = path  # on this machine: the served target is on loopback

    def for_request(self, request_id: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._call(
            "GET", f"decisions?request_id={quote(request_id)}"
        )["entries"]
        return entries

    def entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._call("GET", "decisions")["entries"]
        return entries


class AttachedLocalTarget(LocalEndpoints):
    """See the module docstring. ``endpoint`` is the served HTTPS endpoint, ``ca_bundle`` its
    CA file and ``token`` its admin token, as ``harness serve`` prints them."""

    def __init__(self, endpoint: str, token: str, ca_bundle: Path | str) -> None:
        super().__init__()
        self._endpoint = endpoint.rstrip("/")
        self._token = token
        self._ca_bundle = Path(ca_bundle)
        self._described: dict[str, Any] | None = None
        self._pool: urllib3.HTTPSConnectionPool | None = None  # made on the first call
        self.accounts: Mapping[str, str] = {}
        self.region = "us-east-1"
        self.decision_log: ServedDecisionLog | None = None

    def start(self) -> None:
        if self._described is not None:
            return
        self._described = self._call("GET", "target")
        self.accounts = dict(self._described["accounts"])
        self.region = self._described["region"]
        self.decision_log = ServedDecisionLog(self._call, self._described["decision_log"])

    def stop(self) -> None:
        """Close the kept connections; the served target keeps running for the next command."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @property
    def log_path(self) -> Path | None:
        log = self._description["log"]
        return None if log is None else Path(log)

    @property
    def _description(self) -> dict[str, Any]:
        if self._described is None:
            raise RuntimeError("the attached local target is not started")
        return self._described

    @property
    def endpoint_url(self) -> str:
        return self._endpoint

    @property
    def http_endpoint_url(self) -> str:
        url: str = self._description["http_endpoint_url"]
        return url

    @property
    def ca_bundle(self) -> Path:
        return self._ca_bundle

    def _deployer(self, account_id: str) -> Mapping[str, Any]:
        credentials: Mapping[str, Any] = self._description["deployers"][account_id]
        return credentials

    def _root(self, account_id: str) -> Mapping[str, Any]:
        credentials: Mapping[str, Any] = self._description["roots"][account_id]
        return credentials

    def _service_credentials(
        self, role_arn: str, service: str, session_name: str | None
    ) -> Mapping[str, Any]:
        body = {"role_arn": role_arn, "service": service, "session_name": session_name}
        return self._issued("service-session", body, ServiceRoleDenied)

    def _forward_credentials(self, caller: Mapping[str, Any], service: str) -> Mapping[str, Any]:
        return self._issued(
            "forward-access", {"caller": dict(caller), "service": service}, ValueError
        )

    def _issued(
        self, path: str, body: Mapping[str, Any], refusal: type[Exception]
    ) -> Mapping[str, Any]:
        """Credentials the served target issues, or ``refusal`` with its reason."""
        try:
            credentials: Mapping[str, Any] = self._call("POST", path, body)["credentials"]
        except _Forbidden as refused:
            raise refusal(str(refused)) from refused
        return credentials

    def _connections(self) -> urllib3.HTTPSConnectionPool:
        """Kept-alive connections to the served target, made on the first call and shared by
        the suite's threads: the evidence of each check is an admin call, and a new TLS
        handshake for each one cost ~6 ms of CPU, as much as the probe it explains."""
        if self._pool is None:
            try:
                context = ssl.create_default_context(cafile=str(self._ca_bundle))
            except (ssl.SSLError, OSError) as error:
                raise AdminCallFailed(
                    f"{CA_VARIABLE} {self._ca_bundle}: not the CA file `harness serve` prints "
                    f"({error})"
                ) from error
            address = urlsplit(self._endpoint)
            self._pool = urllib3.HTTPSConnectionPool(
                address.hostname,
                address.port,
                ssl_context=context,
                maxsize=ADMIN_CONNECTIONS,
                block=False,
                timeout=bound("admin_call"),
                retries=False,
            )
        return self._pool

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One admin call, JSON both ways, bounded like every call the harness makes.

        A kept-alive connection the server closed just as it was taken (the pool discards
        those it sees closed) is retried once on a new one, within what is left of the bound;
        a timeout is not retried, so a call never waits longer than its bound."""
        began = time.monotonic()
        arguments: dict[str, Any] = {
            "body": None if body is None else json.dumps(body).encode(),
            "headers": {
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json",
            },
        }
        pool = self._connections()
        try:
            try:
                answer = pool.request(method, ADMIN_PATH + path, **arguments)
            except urllib3.exceptions.ProtocolError:
                left = bound("admin_call") - (time.monotonic() - began)
                if left <= 0:
                    raise
                answer = pool.request(method, ADMIN_PATH + path, timeout=left, **arguments)
        except urllib3.exceptions.HTTPError as error:
            raise AdminCallFailed(
                f"no served local target answers at {self._endpoint} ({error}); "
                "start one with `harness serve`"
            ) from error
        if answer.status == 200:
            return json.loads(answer.data)
        reason = _error_of(answer)
        if answer.status == 403:
            raise _Forbidden(reason)
        raise AdminCallFailed(
            f"the served local target at {self._endpoint} refused {method} {path}: "
            f"{answer.status} {reason}"
        )


class _Forbidden(Exception):
    pass


def _error_of(answer: urllib3.BaseHTTPResponse) -> str:
    try:
        return str(json.loads(answer.data).get("error", answer.reason))
    except ValueError:
        return str(answer.reason)


def from_environment(environ: Mapping[str, str]) -> AttachedLocalTarget | None:
    """The served target the environment names (``harness serve``'s exports), else None:
    then the command starts an embedded one."""
    if not environ.get(ENDPOINT_VARIABLE):
        return None
    problem = next(attached_problems(environ), None)
    if problem is not None:
        raise ValueError(f"{problem[0]}: {problem[1]}")
    return AttachedLocalTarget(
        environ[ENDPOINT_VARIABLE], environ[TOKEN_VARIABLE], environ[CA_VARIABLE]
    )
