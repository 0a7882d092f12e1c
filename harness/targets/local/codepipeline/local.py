"""CodeCommit, CodePipeline and their EventBridge link, assembled for one local target."""

from __future__ import annotations

from harness.targets.local.codecommit import CodeCommitService
from harness.targets.local.codepipeline.api import CodePipelineApi
from harness.targets.local.codepipeline.runner import ServiceSessions
from harness.targets.local.codepipeline.service import PipelineStore
from harness.targets.local.codepipeline.trigger import EventDelivery
from harness.targets.local.gateway import LocalService


class PipelineServices:
    """``services()`` go into the gateway's registry; ``stop()`` abandons executions and lets
    runner and delivery threads end. ``settings`` tune the runner (``job_timeout_seconds``)."""

    def __init__(self, sessions: ServiceSessions, settings: dict[str, float] | None = None):
        self.events = EventDelivery(sessions)
        self.codecommit = CodeCommitService(self.events.publish)
        self.store = PipelineStore(sessions, self.codecommit, settings)

    def services(self) -> dict[str, LocalService]:
        return {"codecommit": self.codecommit, "codepipeline": CodePipelineApi(self.store)}

    def stop(self, bound_s: float | None = None) -> list[str]:
        """Deliveries, then executions, each within the bound; the workers still running."""
        return self.events.wait(bound_s) + self.store.wait(bound_s)
