"""Change sets, driven as ``aws cloudformation deploy`` drives them: create a CREATE set, wait,
execute, wait for the stack; an unchanged template gives a FAILED set saying so; a changed one
lists its Add/Modify/Remove and updates the stack when executed."""

from __future__ import annotations

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.unit.cloudformation.conftest import FAST

ONE_GROUP = "Resources:\n  A: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: cs-a}}\n"
SWAPPED = "Resources:\n  B: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: cs-b}}\n"


def _change_set(cfn: BaseClient, kind: str, body: str, name: str) -> dict:
    cfn.create_change_set(
        StackName="deployed", ChangeSetName=name, ChangeSetType=kind, TemplateBody=body
    )
    return cfn.describe_change_set(StackName="deployed", ChangeSetName=name)


def test_deploy_through_change_sets(cloudformation: BaseClient) -> None:
    cfn = cloudformation
    created = _change_set(cfn, "CREATE", ONE_GROUP, "first")
    assert created["Status"] == "CREATE_COMPLETE" and created["ExecutionStatus"] == "AVAILABLE"
    assert [c["ResourceChange"]["Action"] for c in created["Changes"]] == ["Add"]
    cfn.get_waiter("change_set_create_complete").wait(
        StackName="deployed", ChangeSetName="first", WaiterConfig=FAST
    )
    cfn.execute_change_set(StackName="deployed", ChangeSetName="first")
    cfn.get_waiter("stack_create_complete").wait(StackName="deployed", WaiterConfig=FAST)
    with pytest.raises(ClientError, match="InvalidChangeSetStatus"):
        cfn.execute_change_set(StackName="deployed", ChangeSetName="first")

    summary = cfn.get_template_summary(StackName="deployed")  # deploy reads it before updating
    assert summary["ResourceTypes"] == ["AWS::Logs::LogGroup"]
    unchanged = _change_set(cfn, "UPDATE", ONE_GROUP, "same")
    assert unchanged["Status"] == "FAILED" and "didn't contain changes" in unchanged["StatusReason"]
    with pytest.raises(ClientError, match="AlreadyExists"):
        _change_set(cfn, "CREATE", ONE_GROUP, "again")

    swapped = _change_set(cfn, "UPDATE", SWAPPED, "swap")
    actions = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Action"]
               for c in swapped["Changes"]}  # fmt: skip
    assert actions == {"B": "Add", "A": "Remove"}
    cfn.execute_change_set(StackName="deployed", ChangeSetName="swap")
    cfn.get_waiter("stack_update_complete").wait(StackName="deployed", WaiterConfig=FAST)
    resources = cfn.list_stack_resources(StackName="deployed")["StackResourceSummaries"]
    assert [r["LogicalResourceId"] for r in resources] == ["B"]
    assert cfn.list_change_sets(StackName="deployed")["Summaries"][0]["ChangeSetName"] == "swap"
    with pytest.raises(ClientError, match="ChangeSetNotFound"):
        cfn.describe_change_set(StackName="deployed", ChangeSetName="same")  # gone on execute
