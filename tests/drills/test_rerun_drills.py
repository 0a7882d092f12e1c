"""Re-run drills: deploying a stack that is already there updates it and converges (the same
outputs, no duplicate resources), and an update that fails rolls back to the stack as it was.

The local target ends with its process, so both deploys happen in one target here, through
``Target.deploy_stack`` (what ``harness deploy`` calls for each account's stack); on real
accounts a second ``harness deploy`` reaches the same code.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.targets import StackFailed
from harness.targets.local import LocalTarget
from harness.targets.local.faults import VARIABLE
from harness.templates import ACCOUNT_TEMPLATES, load_template, package
from tests.drills.test_reliability_drills import DRILL_ACCOUNTS

NAME = "drill-shared-services"
PARAMETERS = {
    "Prefix": "drill",
    "TrainingAccountId": DRILL_ACCOUNTS["training"],
    "ProductionAccountId": DRILL_ACCOUNTS["production"],
    "DataPublisherPrincipalArn": "arn:aws:iam::910000000001:role/harness-deployer",
}
EXTRA_ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "RoleName": "drill-added-by-update",
        "AssumeRolePolicyDocument": {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        },
    },
}


def _template() -> dict[str, Any]:
    path = ACCOUNT_TEMPLATES["shared-services"]
    return package(load_template(path), path)


def _state(target: LocalTarget) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """The stack's resources (logical, physical), and the run's roles and buckets."""
    session = target.session("shared-services")
    cloudformation = target.client("cloudformation", session)
    resources = cloudformation.list_stack_resources(StackName=NAME)["StackResourceSummaries"]
    roles = target.client("iam", session).list_roles()["Roles"]
    buckets = target.client("s3", session).list_buckets()["Buckets"]
    return (
        sorted((r["LogicalResourceId"], r["PhysicalResourceId"]) for r in resources),
        sorted(r["RoleName"] for r in roles if r["RoleName"].startswith("drill")),
        sorted(b["Name"] for b in buckets if b["Name"].startswith("drill")),
    )


def test_deploying_twice_converges_and_a_failed_update_rolls_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = _template()
    # The first deploy creates every resource; the update's one new resource is the next.
    monkeypatch.setenv(VARIABLE, f"provider-raises:{len(template['Resources']) + 1}")
    with LocalTarget(DRILL_ACCOUNTS) as target:
        first = target.deploy_stack("shared-services", NAME, json.dumps(template), PARAMETERS)
        before = _state(target)
        again = target.deploy_stack("shared-services", NAME, json.dumps(template), PARAMETERS)
        assert again == first
        assert _state(target) == before

        changed = {**template, "Resources": {**template["Resources"], "Added": EXTRA_ROLE}}
        with pytest.raises(StackFailed) as failed:
            target.deploy_stack("shared-services", NAME, json.dumps(changed), PARAMETERS)
        cloudformation = target.client("cloudformation", target.session("shared-services"))
        stack = cloudformation.describe_stacks(StackName=NAME)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        after = _state(target)
    assert "UPDATE_ROLLBACK_COMPLETE" in str(failed.value)
    assert "Added: Internal failure: DrillFault" in str(failed.value)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert outputs == first
    assert after == before
    assert "drill-added-by-update" not in after[1]
