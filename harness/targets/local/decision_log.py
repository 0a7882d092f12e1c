"""The gateway's decision log: one JSON line per authorization decision, never a secret.

It is the evidence behind every pass and fail of the compliance suite, so each line names the
principal, the action, the resource, the outcome and the policy statement that decided it.
"""

from __future__ import annotations

import datetime
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LoggedDecision:
    """What one line holds."""

    principal: str
    action: str
    resource: str
    allowed: bool
    reason: str
    operation: str  # the API call that needed the decision, e.g. "s3:PutObject"
    transport: str  # "https" or "http"

    def as_json(self) -> dict[str, Any]:
        return {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "decision": "allow" if self.allowed else "deny",
            "reason": self.reason,
            "operation": self.operation,
            "transport": self.transport,
        }


class DecisionLog:
    """Append-only JSON-lines file, safe to write from the gateway's request threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def record(self, decision: LoggedDecision) -> None:
        line = json.dumps(decision.as_json(), sort_keys=True)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def entries(self) -> list[dict[str, Any]]:
        """Every line so far, parsed (for tests and reports)."""
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line]
