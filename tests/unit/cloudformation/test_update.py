"""Stack updates: in-place changes, replacement where AWS replaces (renamed bucket), removed
resources deleted, failures rolled back to the previous template, DeletionPolicy Retain."""

from __future__ import annotations

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, WaiterError

from tests.unit.cloudformation.conftest import FAST, Clients

V1 = """
Parameters:
  Suffix: {Type: String, Default: one}
  Description: {Type: String, Default: first}
  Retention: {Type: Number, Default: 7}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'upd-${AWS::AccountId}-${Suffix}'
      VersioningConfiguration: {Status: Enabled}
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: upd-role
      Description: !Ref Description
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: !Sub 'read-${Suffix}'
          PolicyDocument:
            Version: '2012-10-17'
            Statement: [{Effect: Allow, Action: s3:GetObject, Resource: !Sub '${Bucket.Arn}/*'}]
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: !Ref Retention}
  Archive:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    Properties: {BucketName: !Sub 'archive-${AWS::AccountId}'}
%s
Outputs:
  BucketName: {Value: !Ref Bucket}
"""
DOOMED = "  Doomed:\n    Type: AWS::Logs::LogGroup\n    Properties: {LogGroupName: doomed}\n"
FAILING = """\
  Extra:
    Type: AWS::S3::Bucket
    Properties: {BucketName: !Sub 'extra-${AWS::AccountId}'}
  Broken:
    Type: AWS::S3::BucketPolicy
    DependsOn: [Extra, Role, Logs]
    Properties:
      Bucket: no-such-bucket-anywhere
      PolicyDocument: {Statement: [{Effect: Deny, Principal: '*', Action: 's3:*', Resource: '*'}]}
"""


def _parameters(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


@pytest.fixture
def stack(cloudformation: BaseClient) -> str:
    cloudformation.create_stack(
        StackName="upd", TemplateBody=V1 % DOOMED, Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    cloudformation.get_waiter("stack_create_complete").wait(StackName="upd", WaiterConfig=FAST)
    return "upd"


def _update(cloudformation: BaseClient, body: str, **parameters: str) -> None:
    cloudformation.update_stack(
        StackName="upd",
        TemplateBody=body,
        Parameters=_parameters(**parameters),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )


def _retention(clients: Clients) -> int:
    groups = clients("logs").describe_log_groups(logGroupNamePrefix="upd-Logs")["logGroups"]
    return groups[0]["retentionInDays"]


def test_update_in_place_replace_and_remove(
    cloudformation: BaseClient, clients: Clients, stack: str, account_id: str
) -> None:
    _update(cloudformation, V1 % "", Suffix="two", Description="second", Retention="30")
    cloudformation.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=FAST)

    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "UPDATE_COMPLETE"
    assert described["Outputs"][0]["OutputValue"] == f"upd-{account_id}-two"
    names = {b["Name"] for b in clients("s3").list_buckets()["Buckets"]}
    assert names == {f"upd-{account_id}-two", f"archive-{account_id}"}
    versioning = clients("s3").get_bucket_versioning(Bucket=f"upd-{account_id}-two")
    assert versioning["Status"] == "Enabled"
    iam = clients("iam")
    assert iam.get_role(RoleName="upd-role")["Role"]["Description"] == "second"
    assert iam.list_role_policies(RoleName="upd-role")["PolicyNames"] == ["read-two"]
    assert _retention(clients) == 30
    assert clients("logs").describe_log_groups(logGroupNamePrefix="doomed")["logGroups"] == []
    statuses = [
        (e["LogicalResourceId"], e["ResourceStatus"])
        for e in cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    ]
    assert ("Doomed", "DELETE_COMPLETE") in statuses
    assert (stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS") in statuses


def test_failed_update_rolls_back_to_previous_template(
    cloudformation: BaseClient, clients: Clients, stack: str, account_id: str
) -> None:
    _update(cloudformation, V1 % (DOOMED + FAILING), Description="changed", Retention="30")
    with pytest.raises(WaiterError, match="UPDATE_ROLLBACK_COMPLETE"):
        cloudformation.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=FAST)

    assert cloudformation.get_template(StackName=stack)["TemplateBody"] == V1 % DOOMED
    iam = clients("iam")
    assert iam.get_role(RoleName="upd-role")["Role"]["Description"] == "first"
    assert _retention(clients) == 7
    names = {b["Name"] for b in clients("s3").list_buckets()["Buckets"]}
    assert names == {f"upd-{account_id}-one", f"archive-{account_id}"}
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    failed = next(e for e in events if e["ResourceStatus"] == "CREATE_FAILED")
    assert failed["LogicalResourceId"] == "Broken"
    rollback = next(e for e in events if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS")
    assert rollback["ResourceStatusReason"] == (
        "The following resource(s) failed to create: [Broken]. "
    )
    # The stack stays usable: a later good update succeeds.
    _update(cloudformation, V1 % DOOMED, Description="third")
    cloudformation.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=FAST)
    assert iam.get_role(RoleName="upd-role")["Role"]["Description"] == "third"


def test_custom_named_resource_cannot_be_replaced(cloudformation: BaseClient, stack: str) -> None:
    _update(
        cloudformation,
        (V1 % DOOMED).replace("RoleName: upd-role", "RoleName: upd-role\n      Path: /x/"),
    )
    with pytest.raises(WaiterError, match="UPDATE_ROLLBACK_COMPLETE"):
        cloudformation.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig=FAST)
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    failed = next(e for e in events if e["ResourceStatus"] == "UPDATE_FAILED")
    assert failed["LogicalResourceId"] == "Role"
    assert "custom-named resource requires replacing" in failed["ResourceStatusReason"]


def test_no_change_is_rejected_and_previous_values_are_reused(
    cloudformation: BaseClient, stack: str
) -> None:
    with pytest.raises(ClientError, match=r"No updates are to be performed\."):
        cloudformation.update_stack(
            StackName=stack,
            UsePreviousTemplate=True,
            Parameters=[{"ParameterKey": "Suffix", "UsePreviousValue": True}],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )


def test_delete_honours_retain(
    cloudformation: BaseClient, clients: Clients, stack: str, account_id: str
) -> None:
    cloudformation.delete_stack(StackName=stack)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=FAST)
    assert [b["Name"] for b in clients("s3").list_buckets()["Buckets"]] == [f"archive-{account_id}"]
    assert clients("iam").list_roles()["Roles"] == []


def test_replacement_honours_update_replace_policy(
    cloudformation: BaseClient, clients: Clients, account_id: str
) -> None:
    body = """
Parameters:
  Name: {Type: String}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    UpdateReplacePolicy: Retain
    Properties: {BucketName: !Ref Name}
"""
    first, second = f"keep-{account_id}", f"new-{account_id}"
    cloudformation.create_stack(
        StackName="urp", TemplateBody=body, Parameters=_parameters(Name=first)
    )
    cloudformation.get_waiter("stack_create_complete").wait(StackName="urp", WaiterConfig=FAST)
    cloudformation.update_stack(
        StackName="urp", TemplateBody=body, Parameters=_parameters(Name=second)
    )
    cloudformation.get_waiter("stack_update_complete").wait(StackName="urp", WaiterConfig=FAST)
    assert {b["Name"] for b in clients("s3").list_buckets()["Buckets"]} == {first, second}
    summaries = cloudformation.list_stack_resources(StackName="urp")["StackResourceSummaries"]
    assert [s["PhysicalResourceId"] for s in summaries] == [second]
