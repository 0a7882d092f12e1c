"""Every provider's in-place update path: one stack whose second version changes (or drops)
an updatable property of each resource type, read back through the service APIs."""

from __future__ import annotations

import json

import pytest
from botocore.client import BaseClient

from tests.unit.cloudformation.conftest import FAST, Clients

TEMPLATE = """
Parameters:
  V: {Type: String, AllowedValues: ['1', '2']}
Conditions:
  One: !Equals [!Ref V, '1']
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: !Sub 'key v${V}'
      EnableKeyRotation: !If [One, true, false]
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Sid: !Sub 'RootV${V}'
            Effect: Allow
            Principal: {AWS: !Sub 'arn:aws:iam::${AWS::AccountId}:root'}
            Action: kms:*
            Resource: '*'
      Tags: [{Key: !Sub 'k${V}', Value: v}]
  OtherKey:
    Type: AWS::KMS::Key
  Alias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: alias/upd
      TargetKeyId: !If [One, !Ref Key, !Ref OtherKey]
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'prov-${AWS::AccountId}'
      VersioningConfiguration: {Status: !If [One, Enabled, Suspended]}
      BucketEncryption: !If
        - One
        - ServerSideEncryptionConfiguration:
            - ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}
        - !Ref AWS::NoValue
      PublicAccessBlockConfiguration: !If
        - One
        - {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true,
           RestrictPublicBuckets: true}
        - !Ref AWS::NoValue
      LifecycleConfiguration: !If
        - One
        - Rules: [{Id: r, Status: Enabled, Prefix: tmp/, ExpirationInDays: 1}]
        - !Ref AWS::NoValue
      Tags: !If [One, [{Key: t, Value: v}], !Ref AWS::NoValue]
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: !Sub 'DenyV${V}'
            Effect: Deny
            Principal: '*'
            Action: s3:DeleteBucket
            Resource: !GetAtt Bucket.Arn
  Managed:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Action: !Sub 's3:Get${V}', Resource: '*'}]
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: prov-role
      MaxSessionDuration: !If [One, 3600, 7200]
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns: !If [One, [], [!Ref Managed]]
      Policies:
        - PolicyName: !Sub 'inline${V}'
          PolicyDocument:
            Version: '2012-10-17'
            Statement: [{Effect: Allow, Action: s3:ListBucket, Resource: '*'}]
      Tags: [{Key: !Sub 'r${V}', Value: v}]
  Extra:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: !Sub 'extra${V}'
      Roles: [!Ref Role]
      PolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Action: sqs:ListQueues, Resource: '*'}]
  Repo:
    # moto implements only Create/Get/DeleteRepository, so the repository stays unchanged.
    Type: AWS::CodeCommit::Repository
    Properties:
      RepositoryName: prov-repo
      RepositoryDescription: repo
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: prov-logs
      RetentionInDays: !If [One, 7, !Ref AWS::NoValue]
      Tags: [{Key: !Sub 'l${V}', Value: v}, {Key: kept, Value: !Sub 'v${V}'}]
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: prov-machine
      RoleArn: !GetAtt Role.Arn
      Definition:
        StartAt: P
        States: {P: {Type: Pass, Result: '${Version}', End: true}}
      DefinitionSubstitutions: {Version: !Ref V}
      Tags: [{Key: !Sub 'm${V}', Value: v}, {Key: kept, Value: !Sub 'v${V}'}]
  Function:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: prov-fn
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Timeout: !If [One, 3, 10]
      ReservedConcurrentExecutions: !If [One, 2, !Ref AWS::NoValue]
      Environment: {Variables: {V: !Ref V}}
      Tags: [{Key: !Sub 'f${V}', Value: v}, {Key: kept, Value: !Sub 'v${V}'}]
      Code:
        ZipFile: !Sub 'VERSION = "${V}"'
"""

V2_TAGS = {"kept": "v2"}
"""The tag every second version keeps with a new value (updated in place, never untagged)."""


def _deploy(cloudformation: BaseClient, version: str) -> None:
    parameters = [{"ParameterKey": "V", "ParameterValue": version}]
    call, waiter = (
        (cloudformation.create_stack, "stack_create_complete")
        if version == "1"
        else (cloudformation.update_stack, "stack_update_complete")
    )
    call(
        StackName="prov",
        TemplateBody=TEMPLATE,
        Parameters=parameters,
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    try:
        cloudformation.get_waiter(waiter).wait(StackName="prov", WaiterConfig=FAST)
    except Exception:
        events = cloudformation.describe_stack_events(StackName="prov")["StackEvents"]
        failed = [
            (e["LogicalResourceId"], e.get("ResourceStatusReason"))
            for e in events
            if e["ResourceStatus"].endswith("FAILED")
        ]
        pytest.fail(f"v{version} failed: {failed}")


def _physical(cloudformation: BaseClient, logical_id: str) -> str:
    resources = cloudformation.describe_stack_resources(
        StackName="prov", LogicalResourceId=logical_id
    )["StackResources"]
    return resources[0]["PhysicalResourceId"]


def test_every_provider_updates_in_place(
    cloudformation: BaseClient, clients: Clients, account_id: str
) -> None:
    _deploy(cloudformation, "1")
    key_id = _physical(cloudformation, "Key")
    _deploy(cloudformation, "2")
    assert _physical(cloudformation, "Key") == key_id

    kms = clients("kms")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "key v2"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Sid"] == "RootV2"
    assert [t["TagKey"] for t in kms.list_resource_tags(KeyId=key_id)["Tags"]] == ["k2"]
    alias = next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/upd")
    assert alias["TargetKeyId"] == _physical(cloudformation, "OtherKey")

    s3, bucket = clients("s3"), f"prov-{account_id}"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    for missing in (
        s3.get_public_access_block,
        s3.get_bucket_lifecycle_configuration,
        s3.get_bucket_tagging,
    ):
        with pytest.raises(s3.exceptions.ClientError):
            missing(Bucket=bucket)
    bucket_policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert bucket_policy["Statement"][0]["Sid"] == "DenyV2"

    iam = clients("iam")
    managed_arn = _physical(cloudformation, "Managed")
    version = iam.get_policy(PolicyArn=managed_arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=managed_arn, VersionId=version)["PolicyVersion"]
    assert "s3:Get2" in json.dumps(document["Document"])
    role = iam.get_role(RoleName="prov-role")["Role"]
    assert role["MaxSessionDuration"] == 7200
    assert [t["Key"] for t in iam.list_role_tags(RoleName="prov-role")["Tags"]] == ["r2"]
    assert sorted(iam.list_role_policies(RoleName="prov-role")["PolicyNames"]) == [
        "extra2",
        "inline2",
    ]
    attached = iam.list_attached_role_policies(RoleName="prov-role")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [managed_arn]

    logs = clients("logs")
    group = logs.describe_log_groups(logGroupNamePrefix="prov-logs")["logGroups"][0]
    assert "retentionInDays" not in group
    group_arn = group["arn"].removesuffix(":*")
    assert logs.list_tags_for_resource(resourceArn=group_arn)["tags"] == V2_TAGS | {"l2": "v"}

    sfn, machine_arn = clients("stepfunctions"), _physical(cloudformation, "Machine")
    machine = sfn.describe_state_machine(stateMachineArn=machine_arn)
    assert json.loads(machine["definition"])["States"]["P"]["Result"] == "2"
    machine_tags = sfn.list_tags_for_resource(resourceArn=machine_arn)["tags"]
    assert {t["key"]: t["value"] for t in machine_tags} == V2_TAGS | {"m2": "v"}

    function = clients("lambda").get_function(FunctionName="prov-fn")
    assert function["Configuration"]["Timeout"] == 10
    assert function["Configuration"]["Environment"]["Variables"] == {"V": "2"}
    assert "Concurrency" not in function or not function["Concurrency"]
    assert function["Tags"] == V2_TAGS | {"f2": "v"}


def test_managed_policy_survives_more_updates_than_iam_keeps_versions(
    cloudformation: BaseClient, clients: Clients
) -> None:
    body = """
Parameters:
  Action: {Type: String}
Resources:
  Managed:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Action: !Ref Action, Resource: '*'}]
"""
    actions = [
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "sqs:ListQueues",
        "sns:ListTopics",
        "kms:ListKeys",
        "iam:ListRoles",
    ]
    for number, action in enumerate(actions):
        call = cloudformation.create_stack if number == 0 else cloudformation.update_stack
        call(
            StackName="mp",
            TemplateBody=body,
            Parameters=[{"ParameterKey": "Action", "ParameterValue": action}],
            Capabilities=["CAPABILITY_IAM"],
        )
        waiter = "stack_create_complete" if number == 0 else "stack_update_complete"
        cloudformation.get_waiter(waiter).wait(StackName="mp", WaiterConfig=FAST)
    arn = cloudformation.describe_stack_resources(StackName="mp")["StackResources"][0][
        "PhysicalResourceId"
    ]
    iam = clients("iam")
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]
    assert "iam:ListRoles" in json.dumps(document["Document"])
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) <= 5
