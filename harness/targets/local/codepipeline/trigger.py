"""EventBridge delivery of the local target's service events to CodePipeline targets.

A rule of the event's account whose pattern matches (moto holds the rules) and whose target is
a pipeline ARN starts that pipeline *as the rule's role*: the role is assumed as
``events.amazonaws.com`` (its trust policy decides), then StartPipelineExecution goes through
the gateway (its identity policy decides). Delivery is asynchronous, as EventBridge's is; each
attempt is recorded with its outcome.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from harness.deadlines import Workers
from harness.targets.local import moto_state
from harness.targets.local.codepipeline.runner import ServiceSessions

EVENTS_SERVICE = "events.amazonaws.com"


@dataclass(frozen=True)
class Delivery:
    rule_arn: str
    target_arn: str
    delivered: bool
    detail: str  # the execution id started, or why the target was not invoked


class EventDelivery:
    """``publish`` is the ``Publish`` callback services emit events to."""

    def __init__(self, sessions: ServiceSessions) -> None:
        self.sessions = sessions
        self.deliveries: list[Delivery] = []
        self._workers = Workers("event delivery")
        self._lock = threading.Lock()

    def publish(self, account_id: str, region: str, event: dict[str, Any]) -> None:
        self._workers.start(
            f"{event.get('detail-type', 'event')} in {account_id}",
            self._deliver,
            account_id,
            region,
            event,
        )

    def wait(self, bound_s: float | None = None) -> list[str]:
        """Let deliveries under way finish within the bound; those still running."""
        return self._workers.join(bound_s)

    def _deliver(self, account_id: str, region: str, event: dict[str, Any]) -> None:
        for target in moto_state.matching_rule_targets(account_id, region, event):
            delivered, detail = self._invoke(target)
            with self._lock:
                self.deliveries.append(Delivery(target.rule_arn, target.arn, delivered, detail))

    def _invoke(self, target: moto_state.RuleTarget) -> tuple[bool, str]:
        parts = target.arn.split(":")
        if len(parts) != 6 or parts[2] != "codepipeline":
            return False, "the local target delivers events only to CodePipeline targets"
        if target.role_arn is None:
            return False, "a CodePipeline target needs a RoleArn"
        try:
            session = self.sessions.session_as_service(target.role_arn, EVENTS_SERVICE)
            codepipeline = self.sessions.client("codepipeline", session)
            started = codepipeline.start_pipeline_execution(name=parts[5])
        except Exception as failure:  # recorded as EventBridge records FailedInvocations
            return False, f"{type(failure).__name__}: {failure}"
        return True, str(started["pipelineExecutionId"])
