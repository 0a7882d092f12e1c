"""One live request, and what came back: allowed or denied, with the target's request id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.evidence import Intent

# HeadObject answers a denial with a bare 403 (a HEAD response has no error body).
DENIAL_CODES = frozenset({"AccessDenied", "AccessDeniedException", "403"})


@dataclass(frozen=True)
class Call:
    """A request: who makes it, how (over plain HTTP, or through an AWS service on the
    principal's behalf), the boto3 call itself and the same request in IAM's terms."""

    label: str  # what it is, for reports: "kms:Decrypt on the artifact key"
    principal: str  # the ARN the request is made as
    service: str  # boto3 service name
    invoke: Callable[[BaseClient], Any]
    intent: Intent
    plain_http: bool = False
    via: str | None = None  # AWS service principal calling on the principal's behalf


@dataclass(frozen=True)
class Attempt:
    """The outcome: allowed (with the response) or denied (with AWS's error)."""

    allowed: bool
    detail: str  # the denial's code and message; "" when allowed
    request_id: str | None
    response: Any = None


def attempt(call: Callable[[], Any]) -> Attempt:
    """Make the call; a denial is an answer, any other error (a malformed request, a missing
    resource) is raised, since it proves nothing about the policies."""
    try:
        response = call()
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code not in DENIAL_CODES:
            raise
        message = error.response["Error"].get("Message", "")
        return Attempt(False, f"{code}: {message}", _request_id(error.response))
    return Attempt(True, "", _request_id(response), response)


def _request_id(response: Any) -> str | None:
    if not isinstance(response, dict):
        return None
    return response.get("ResponseMetadata", {}).get("RequestId") or None
