"""The gateway's decision log: one JSON line per authorization decision, never a secret.

It is the evidence behind every pass and fail of the compliance suite, so each line names the
request (by the id its answer carried), the principal, the action, the resource, the outcome,
every statement that matched and the ones that decided, in the format
``harness.evidence.DecisionEvidence.from_log`` reads.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from harness.policy import Decision, PolicyKind, StatementRef


def _cited(refs: tuple[StatementRef, ...]) -> list[dict[str, Any]]:
    return [
        {"policy": ref.policy, "kind": ref.kind, "sid": ref.sid, "effect": ref.effect}
        for ref in refs
    ]


@dataclass(frozen=True)
class LoggedDecision:
    """What one line holds."""

    request_id: str
    principal: str
    action: str
    resource: str
    allowed: bool
    reason: str
    operation: str  # the API call that needed the decision, e.g. "s3:PutObject"
    transport: str  # "https" or "http"
    matched: tuple[StatementRef, ...] = ()
    deciding: tuple[StatementRef, ...] = ()
    lacking: tuple[PolicyKind, ...] = ()

    @classmethod
    def of(
        cls,
        decision: Decision,
        *,
        request_id: str,
        principal: str,
        action: str,
        resource: str,
        operation: str,
        transport: str,
    ) -> LoggedDecision:
        """The line for a decision of the policy engine."""
        return cls(
            request_id,
            principal,
            action,
            resource,
            decision.allowed,
            decision.reason,
            operation,
            transport,
            decision.matched,
            decision.statements,
            decision.lacking,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "request_id": self.request_id,
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "decision": "allow" if self.allowed else "deny",
            "reason": self.reason,
            "operation": self.operation,
            "transport": self.transport,
            "matched": _cited(self.matched),
            "deciding": _cited(self.deciding),
            "lacking": list(self.lacking),
        }


class DecisionLog:
    """Append-only JSON-lines file, safe to write from the gateway's request threads, with
    the lines of each request kept in memory by request id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._by_request: defaultdict[str, list[str]] = defaultdict(list)
        self._handle: TextIO | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def record(self, decision: LoggedDecision) -> None:
        line = json.dumps(decision.as_json(), sort_keys=True)
        with self._lock:
            # One open file for every line (opening it per line cost a tenth of a request),
            # flushed per line so that readers of the file see every decision at once.
            if self._handle is None:
                self._handle = self.path.open("a", encoding="utf-8")
            self._handle.write(line + "\n")
            self._handle.flush()
            self._by_request[decision.request_id].append(line)

    def close(self) -> None:
        """Close the file; a later ``record`` opens it again."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def for_request(self, request_id: str) -> list[dict[str, Any]]:
        """The lines of one request, in the order its decisions were made."""
        with self._lock:
            lines = list(self._by_request.get(request_id, ()))
        return [json.loads(line) for line in lines]

    def entries(self) -> list[dict[str, Any]]:
        """Every line so far, parsed (for tests and reports)."""
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line]
