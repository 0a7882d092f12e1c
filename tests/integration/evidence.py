"""Shared by the checks: run a call and tell allowed from denied, and explain an outcome.

An access denial is the expected answer of many checks, so it is returned, not raised; any
other error (a malformed request, a missing resource) is raised, since it proves nothing
about the policies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.deploy.principals import PrincipalSessions, Unavailable
from harness.pytest_plugin import HasDecisionLog
from harness.targets import Target

# HeadObject answers a denial with a bare 403 (a HEAD response has no error body).
DENIAL_CODES = {"AccessDenied", "AccessDeniedException", "403"}


@dataclass(frozen=True)
class Outcome:
    allowed: bool
    detail: str  # the denial's code and message, or "" when allowed
    response: Any = None


def probe_key(object_key: str) -> str:
    """Where a check writes in place of an allow-list object: under the same top-level prefix
    (the policies grant by top-level prefix: ``data/*``, ``models/*``, ``<prefix>/*``) but in
    ``harness-probe/``, so no probe lands among the training data the pipeline reads from
    ``data/train/`` or replaces a real model or artifact."""
    top, _, rest = object_key.partition("/")
    return f"{top}/harness-probe/{rest}"


def attempt(call: Callable[[], Any]) -> Outcome:
    """Allowed (with the response) or denied (with AWS's error); other errors raise."""
    try:
        return Outcome(True, "", call())
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code not in DENIAL_CODES:
            raise
        return Outcome(False, f"{code}: {error.response['Error'].get('Message', '')}")


def deciding_statement(target: Target, principal_arn: str, action: str) -> str:
    """The target's own reason for its latest decision on ``action`` by ``principal_arn``,
    where it keeps a decision log; otherwise a pointer to where to look."""
    if not isinstance(target, HasDecisionLog):
        return "the target keeps no decision log; see CloudTrail for the deciding policy"
    name = principal_arn.rsplit("/", 1)[-1]
    for entry in reversed(target.decision_log.entries()):
        principal = entry["principal"]
        if entry["action"] == action and (
            f"role/{name}" in principal
            or f"assumed-role/{name}/" in principal
            or principal == principal_arn
        ):
            return f"{entry['decision']}: {entry['reason']}"
    return f"no decision on {action} by {principal_arn} in the decision log"


def verdict(principal: str, arn: str, what: str, outcome: Outcome, expected: bool) -> str:
    """What is wrong, where, why: for a check's assertion message."""
    got = "allowed" if outcome.allowed else f"denied ({outcome.detail})"
    wanted = "allowed" if expected else "denied"
    return f"{principal} ({arn}): {what} was {got}; the allow-list says {wanted}"


@dataclass(frozen=True)
class Acting:
    """A principal's session, and clients for it on the target."""

    principals: PrincipalSessions
    arn: str
    session: boto3.Session

    def client(self, service: str) -> BaseClient:
        return self.principals.client(self.arn, service)


def as_principal(principals: PrincipalSessions, arn: str) -> Acting:
    """Act as ``arn``, or skip the check with the reason the target cannot."""
    try:
        return Acting(principals, arn, principals.session(arn))
    except Unavailable as unavailable:
        pytest.skip(str(unavailable))
