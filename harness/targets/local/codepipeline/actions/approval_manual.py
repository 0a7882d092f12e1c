"""Approval / Manual: wait for PutApprovalResult with the token GetPipelineState shows."""

from __future__ import annotations

from harness.deadlines import bound
from harness.targets.local.codepipeline.actions.base import ActionContext, ActionOutcome
from harness.targets.local.codepipeline.waits import ActionFailed


def run(context: ActionContext) -> ActionOutcome:
    wait = context.waits.approval(context.execution, context.run)
    result = wait.wait(bound("approval"), f"approval {context.run.name}")
    summary = f"{result['status']} by {result['by']}: {result.get('summary', '')}"
    if result["status"] != "Approved":
        raise ActionFailed("JobFailed", summary)
    return ActionOutcome(summary=summary)
