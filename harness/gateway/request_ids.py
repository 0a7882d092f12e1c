"""One request id per HTTP request, on every answer, where each protocol's clients read it.

The decision log is indexed by this id, so a caller holding boto3's
``ResponseMetadata.RequestId`` (of a response or of a ``ClientError``) can find the decisions
that allowed or refused its request. botocore reads it from the ``x-amzn-RequestId`` or
``x-amz-request-id`` header (S3's host id from ``x-amz-id-2``), except in the query protocol
(STS, IAM, CloudFormation), where it reads only the ``<RequestId>`` of the XML body.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_ID_HEADERS = frozenset({"x-amzn-requestid", "x-amz-request-id", "x-amz-id-2"})
_REWRITTEN_HEADERS = _ID_HEADERS | {"content-length"}
_QUERY_REQUEST_ID = re.compile(rb"<RequestId>[^<]*</RequestId>")
_LAST_CLOSING_TAG = re.compile(rb"</[^>]+>\s*\Z")


def new_request_id() -> str:
    return str(uuid.uuid4())


def host_id(request_id: str) -> str:
    """S3's extended request id (``x-amz-id-2``, ``<HostId>``), derived from the request id."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode()


def request_id_headers(protocol: str, request_id: str) -> list[tuple[str, str]]:
    """The headers that carry ``request_id`` in ``protocol`` (botocore's protocol name).

    S3 (rest-xml) sends ``x-amz-request-id`` and ``x-amz-id-2`` but never ``x-amzn-RequestId``,
    as on AWS: botocore reads the host id only when ``x-amzn-RequestId`` is absent.
    """
    if protocol == "rest-xml":
        return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id(request_id))]
    return [("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)]


def stamp_query_body(body: bytes, request_id: str, error: bool) -> bytes:
    """Replace every ``<RequestId>`` of a query-protocol document with ``request_id``, or add
    one where botocore looks for it (``ResponseMetadata`` of a result, the root of an error)."""
    element = f"<RequestId>{request_id}</RequestId>".encode()
    stamped, count = _QUERY_REQUEST_ID.subn(element, body)
    if count or not body.strip():
        return stamped
    if not error:
        element = b"<ResponseMetadata>" + element + b"</ResponseMetadata>"
    closing = _LAST_CLOSING_TAG.search(body)
    if closing is None:
        return body
    return body[: closing.start()] + element + body[closing.start() :]


def with_request_id(app: WsgiApp, protocol: str, request_id: str) -> WsgiApp:
    """``app``, answering with ``request_id`` in place of any id it gave. Only a query-protocol
    body is rewritten; any other body (an S3 object) streams through untouched."""

    def stamped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if protocol != "query":

            def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
                return start_response(status, _replaced(headers, protocol, request_id), *exc_info)

            return app(environ, start)
        answered: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> None:
            answered[:] = [status, headers, *exc_info]

        chunks = app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers, *exc_info = answered
        body = stamp_query_body(body, request_id, error=not status.startswith("2"))
        headers = _replaced(headers, protocol, request_id, _REWRITTEN_HEADERS)
        start_response(status, [*headers, ("Content-Length", str(len(body)))], *exc_info)
        return [body]

    return stamped


def _replaced(
    headers: list[tuple[str, str]],
    protocol: str,
    request_id: str,
    dropped: frozenset[str] = _ID_HEADERS,
) -> list[tuple[str, str]]:
    kept = [(name, value) for name, value in headers if name.lower() not in dropped]
    return kept + request_id_headers(protocol, request_id)
