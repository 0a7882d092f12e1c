"""One module per action type the local runner executes, keyed by ``actionTypeId``."""

from __future__ import annotations

from harness.targets.local.codepipeline.actions import (
    approval_manual,
    deploy_cloudformation,
    invoke_lambda,
    invoke_stepfunctions,
    source_codecommit,
)
from harness.targets.local.codepipeline.actions.base import Action

ACTIONS: dict[tuple[str, str, str], Action] = {
    ("Source", "AWS", "CodeCommit"): source_codecommit.run,
    ("Deploy", "AWS", "CloudFormation"): deploy_cloudformation.run,
    ("Invoke", "AWS", "StepFunctions"): invoke_stepfunctions.run,
    ("Approval", "AWS", "Manual"): approval_manual.run,
    ("Invoke", "AWS", "Lambda"): invoke_lambda.run,
}
