"""AWS error responses, in the shape each protocol's clients parse.

A denied or unauthenticated request must fail in boto3 exactly as it fails on AWS: same
``ClientError`` code and HTTP status. The codes per protocol family live in
``data/error_codes.yaml``; this module only knows how each wire protocol frames an error.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from harness.gateway.request_ids import host_id, request_id_headers
from harness.yaml_safe import safe_load


class ErrorKind(StrEnum):
    """Failures the gateway reports itself, independent of the service's wording (an
    internal failure is a service behind the gateway raising instead of answering)."""

    ACCESS_DENIED = "access_denied"
    UNKNOWN_ACCESS_KEY = "unknown_access_key"
    INVALID_TOKEN = "invalid_token"
    EXPIRED_TOKEN = "expired_token"
    SIGNATURE_MISMATCH = "signature_mismatch"
    REQUEST_TIME_SKEWED = "request_time_skewed"
    PRESIGNED_URL_EXPIRED = "presigned_url_expired"
    MISSING_AUTHENTICATION = "missing_authentication"
    INCOMPLETE_SIGNATURE = "incomplete_signature"
    CONTENT_SHA256_MISMATCH = "content_sha256_mismatch"
    INTERNAL_FAILURE = "internal_failure"


class GatewayError(Exception):
    """A request the gateway refuses; rendered per protocol by :func:`render_error`."""

    def __init__(self, kind: ErrorKind, message: str | None = None) -> None:
        super().__init__(message or kind.value)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class WireProtocol:
    """The protocol a request arrived in, with what its error framing needs."""

    name: str  # botocore's protocol name: rest-xml, query, json, rest-json, smithy-rpc-v2-cbor
    xml_namespace: str | None = None
    json_version: str | None = None

    @property
    def family(self) -> str:
        """Key into ``error_codes.yaml``: CBOR RPC services answer with the JSON codes."""
        return "json" if self.name == "smithy-rpc-v2-cbor" else self.name


@dataclass(frozen=True)
class ErrorResponse:
    """A complete HTTP error response; callable as a WSGI application."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    code: str
    message: str

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(self.status_line, list(self.headers))
        return [self.body]


@functools.cache
def _error_table() -> dict[str, dict[str, Any]]:
    text = resources.files(__package__).joinpath("data/error_codes.yaml").read_text()
    return safe_load(text)


def access_denied_message(caller_arn: str, action: str, resource: str | None, reason: str) -> str:
    """AWS's wording: ``User: <arn> is not authorized to perform: <action> on resource: <arn>
    because <reason>`` (the ``on resource`` and ``because`` parts only when known)."""
    message = f"User: {caller_arn} is not authorized to perform: {action}"
    if resource:
        message += f" on resource: {resource}"
    if reason:
        message += f" because {reason}"
    return message


def _cbor_text(value: str) -> bytes:
    data = value.encode()
    return _cbor_head(3, len(data)) + data


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise ValueError("CBOR item too long")


def _cbor_text_map(items: dict[str, str]) -> bytes:
    """Encode a map of text to text, all an RPCv2 CBOR error body needs."""
    out = _cbor_head(5, len(items))
    for key, value in items.items():
        out += _cbor_text(key) + _cbor_text(value)
    return out


def _frame(
    protocol: WireProtocol, code: str, message: str, status: int, sender: bool, request_id: str
) -> tuple[list[tuple[str, str]], bytes]:
    ids = request_id_headers(protocol.name, request_id)
    if protocol.name == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>{host_id(request_id)}</HostId></Error>"
        )
        return [("Content-Type", "application/xml"), *ids], body.encode()
    if protocol.name == "query":
        xmlns = f' xmlns="{escape(protocol.xml_namespace)}"' if protocol.xml_namespace else ""
        body = (
            f"<ErrorResponse{xmlns}><Error><Type>{'Sender' if sender else 'Receiver'}</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return [("Content-Type", "text/xml"), *ids], body.encode()
    if protocol.name == "smithy-rpc-v2-cbor":
        headers = [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            *ids,
        ]
        return headers, _cbor_text_map({"__type": code, "message": message})
    if protocol.name == "rest-json":
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", code),
            *ids,
        ]
        return headers, json.dumps({"Type": "User", "Message": message}).encode()
    content_type = f"application/x-amz-json-{protocol.json_version or '1.1'}"
    return [("Content-Type", content_type), *ids], json.dumps(
        {"__type": code, "message": message}
    ).encode()


def render_error(
    protocol: WireProtocol,
    kind: ErrorKind,
    message: str | None = None,
    *,
    request_id: str,
    method: str = "POST",
) -> ErrorResponse:
    """Render ``kind`` as ``protocol``'s error; a HEAD response has no body, as on AWS."""
    entry = _error_table()[kind.value]
    code, status, *family_message = entry[protocol.family]
    text = message or (family_message[0] if family_message else entry["message"])
    return render_service_error(protocol, code, text, status, request_id=request_id, method=method)


def render_service_error(
    protocol: WireProtocol,
    code: str,
    message: str,
    status: int,
    *,
    request_id: str,
    method: str = "POST",
) -> ErrorResponse:
    """Render a service's own error ``code`` (a local service's ``NoSuchEntity``, say) in
    the framing the gateway's refusals use."""
    headers, body = _frame(protocol, code, message, status, status < 500, request_id)
    if method.upper() == "HEAD":
        body = b""
    headers.append(("Content-Length", str(len(body))))
    return ErrorResponse(status, tuple(headers), body, code, message)


def render_access_denied(
    protocol: WireProtocol,
    *,
    caller_arn: str,
    action: str,
    resource: str | None,
    reason: str,
    request_id: str,
    method: str = "POST",
) -> ErrorResponse:
    """Render a policy deny as the service's ``AccessDenied`` with AWS's message."""
    message = access_denied_message(caller_arn, action, resource, reason)
    return render_error(
        protocol, ErrorKind.ACCESS_DENIED, message, request_id=request_id, method=method
    )
