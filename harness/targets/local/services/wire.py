"""HTTP answers of the services the local target runs itself, in their wire protocols.

SageMaker and Step Functions speak AWS JSON 1.1/1.0 (error code in ``__type``); Lambda and
sagemaker-runtime speak REST-JSON (error code in ``X-Amzn-ErrorType``, raw payload bodies).
Timestamps go out as epoch seconds, which botocore reads back as datetimes for both.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from harness.gateway.errors import WireProtocol

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _default(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def to_json(value: Any) -> bytes:
    return json.dumps(value, default=_default).encode()


def _content_type(protocol: WireProtocol) -> str:
    if protocol.name == "json":
        return f"application/x-amz-json-{protocol.json_version or '1.1'}"
    return "application/json"


@dataclasses.dataclass(frozen=True)
class Answer:
    """A complete response; callable as a WSGI application."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        headers = [*self.headers, ("Content-Length", str(len(self.body)))]
        start_response(f"{self.status} {HTTPStatus(self.status).phrase}", headers)
        return [self.body]


def json_answer(protocol: WireProtocol, payload: Any, status: int = 200) -> Answer:
    return Answer(status, to_json(payload), (("Content-Type", _content_type(protocol)),))


def error_answer(
    protocol: WireProtocol, code: str, message: str, status: int = 400, **fields: Any
) -> Answer:
    """The service's error ``code``; ``fields`` are the error shape's extra members."""
    body: dict[str, Any] = {"message": message, **fields}
    headers = [("Content-Type", _content_type(protocol)), ("X-Amzn-ErrorType", code)]
    if protocol.name == "json":
        body["__type"] = code
    return Answer(status, to_json(body), tuple(headers))


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body the gateway re-wound for the service (it stays readable for moto)."""
    stream = environ["wsgi.input"]
    body: bytes = stream.read()
    stream.seek(0)
    return body


def forward(backend: WsgiApp, environ: dict[str, Any]) -> Answer:
    """Let moto answer the (already authorized) request, keeping its response to inspect."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = tuple((k, v) for k, v in headers if k.lower() != "content-length")

    body = b"".join(backend(environ, start_response))
    return Answer(captured["status"], body, captured["headers"])
