"""Call a hosted endpoint the way sagemaker-runtime's InvokeEndpoint does.

InvokeEndpoint passes Body, ContentType and Accept to the container's `/invocations` and returns
its Body and ContentType; when the container answers with an error status, the API fails with
`ModelError` carrying OriginalStatusCode and OriginalMessage. The local target maps this
module's result and exception onto that API.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT = 60  # seconds: InvokeEndpoint's limit on a container's answer


@dataclass(frozen=True)
class InvokeResult:
    """InvokeEndpoint's response fields (the variant name is the caller's to add)."""

    body: bytes
    content_type: str


class ModelError(Exception):
    """The container answered with an error: InvokeEndpoint's `ModelError`."""

    def __init__(self, original_status_code: int, original_message: str) -> None:
        side = "client" if original_status_code < 500 else "server"
        super().__init__(
            f"Received {side} error ({original_status_code}) from model with message "
            f'"{original_message}"'
        )
        self.original_status_code = original_status_code
        self.original_message = original_message


def invoke_endpoint(
    url: str, body: bytes, content_type: str | None = None, accept: str | None = None
) -> InvokeResult:
    """POST `body` to `<url>/invocations`; ModelError for a non-2xx answer."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, TIMEOUT)
    headers = {"Content-Type": content_type or "application/octet-stream"}
    if accept:
        headers["Accept"] = accept
    try:
        connection.request("POST", "/invocations", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        raise ModelError(response.status, payload.decode(errors="replace"))
    return InvokeResult(payload, response.getheader("Content-Type", ""))
