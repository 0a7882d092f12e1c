"""Who explains an outcome: the target itself, from its decision log by request id, where it
keeps one (the local gateway does); otherwise the harness's engine, deciding the request's
:class:`~harness.evidence.model.Intent` on the policies fetched from the target, and saying so.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from harness.evidence.computed import ComputedExplainer
from harness.evidence.model import DecisionEvidence, Explanation, Intent, Source
from harness.targets import Target


@runtime_checkable
class HasDecisionLog(Protocol):
    """A target that logs every authorization decision with its request id (local does)."""

    @property
    def decision_log(self) -> Any: ...


class Explainer(Protocol):
    def explain(self, request_id: str | None, intent: Intent) -> Explanation: ...


class DecisionLogExplainer:
    """The decisions the target logged for the request id it answered with."""

    def __init__(self, target: HasDecisionLog) -> None:
        self.target = target

    def explain(self, request_id: str | None, intent: Intent) -> Explanation:
        entries = self.target.decision_log.for_request(request_id) if request_id else []
        decisions = tuple(DecisionEvidence.from_log(entry) for entry in entries)
        return Explanation(Source.DECISION_LOG, request_id, decisions)


def explainer_for(target: Target) -> Explainer:
    """The target's own log where it keeps one, else the engine on its fetched policies."""
    if isinstance(target, HasDecisionLog):
        return DecisionLogExplainer(target)
    return ComputedExplainer(target)
