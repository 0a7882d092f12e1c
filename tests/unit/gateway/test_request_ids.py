"""The request id replaces whatever id the service put in its answer, and only there."""

from __future__ import annotations

from typing import Any

import pytest

from harness.gateway.request_ids import stamp_query_body, with_request_id

ID = "11111111-2222-4333-8444-555555555555"


@pytest.mark.parametrize(
    ("body", "error", "stamped"),
    [
        (
            b"<R><Result/><ResponseMetadata><RequestId>moto</RequestId></ResponseMetadata></R>",
            False,
            f"<R><Result/><ResponseMetadata><RequestId>{ID}</RequestId></ResponseMetadata></R>",
        ),
        (
            b"<R><Result/></R>\n",
            False,
            f"<R><Result/><ResponseMetadata><RequestId>{ID}</RequestId></ResponseMetadata></R>\n",
        ),
        (
            b"<ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>",
            True,
            f"<ErrorResponse><Error><Code>X</Code></Error><RequestId>{ID}</RequestId>"
            "</ErrorResponse>",
        ),
        (b"", True, ""),
    ],
    ids=["replaced", "added-to-result", "added-to-error", "empty"],
)
def test_query_bodies_get_the_request_id(body: bytes, error: bool, stamped: str) -> None:
    assert stamp_query_body(body, ID, error).decode() == stamped


def _answer(protocol: str, chunks: Any) -> tuple[list[tuple[str, str]], Any]:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("x-amzn-RequestId", "moto"), ("Content-Length", "4")])
        return chunks

    started: list[tuple[str, str]] = []
    body = with_request_id(app, protocol, ID)({}, lambda _s, h, *_: started.extend(h))
    return started, body


def test_other_bodies_stream_through_with_only_the_headers_replaced() -> None:
    chunks = iter([b"ab", b"cd"])
    headers, body = _answer("rest-xml", chunks)
    assert body is chunks
    names = [name.lower() for name, _ in headers]
    assert ("x-amz-request-id", ID) in headers and "x-amz-id-2" in names
    assert "x-amzn-requestid" not in names and ("Content-Length", "4") in headers
    json_headers, _ = _answer("json", [b"{}"])
    assert ("x-amzn-RequestId", ID) in json_headers and (
        "x-amzn-RequestId",
        "moto",
    ) not in json_headers


def test_query_answers_are_rewritten_with_their_length() -> None:
    headers, body = _answer("query", [b"<R>", b"</R>"])
    expected = f"<R><ResponseMetadata><RequestId>{ID}</RequestId></ResponseMetadata></R>".encode()
    assert body == [expected]
    assert ("Content-Length", str(len(expected))) in headers and (
        "Content-Length",
        "4",
    ) not in headers
