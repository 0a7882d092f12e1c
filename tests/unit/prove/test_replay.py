"""A replayed request is judged by the target's decision of its own action where the target
keeps a decision log: a refusal only at the KMS call S3 makes for the caller still shows the
bucket policy letting the request through."""

from __future__ import annotations

from typing import Any

from harness.probes.calls import Attempt
from harness.prove.replay import Case, _own_decision

CASE = Case("c", "object-access/s3:GetObject", 2, "denied", "arn:p", "s3:GetObject", "arn:o")


class _Log:
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries

    def for_request(self, request_id: str) -> list[dict[str, Any]]:
        return self.entries if request_id == "r1" else []


class _LoggingTarget:
    def __init__(self, *entries: dict[str, Any]) -> None:
        self.decision_log = _Log(list(entries))


def _entry(action: str, decision: str) -> dict[str, Any]:
    return {"action": action, "resource": "arn:o", "decision": decision, "reason": decision}


def test_the_own_action_is_read_from_the_decision_log() -> None:
    target = _LoggingTarget(_entry("s3:GetObject", "allow"), _entry("kms:Decrypt", "deny"))
    own = _own_decision(CASE, target, Attempt(False, "AccessDenied", "r1"))  # type: ignore[arg-type]
    assert own is not None and own.allowed and own.action == "s3:GetObject"


def test_without_a_log_or_a_request_id_there_is_no_own_decision() -> None:
    target = _LoggingTarget(_entry("s3:GetObject", "deny"))
    assert _own_decision(CASE, target, Attempt(False, "x", None)) is None  # type: ignore[arg-type]
    assert _own_decision(CASE, object(), Attempt(False, "x", "r1")) is None  # type: ignore[arg-type]
    own = _own_decision(CASE, target, Attempt(False, "x", "r1"))  # type: ignore[arg-type]
    assert own is not None and not own.allowed
