"""Deploying through our CloudFormation API onto moto: every setting must read back through
the service APIs, which is exactly what moto's own CloudFormation fails at."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

import pytest
from botocore.client import BaseClient
from botocore.model import OperationModel

from tests.unit.cloudformation.conftest import (
    FAST,
    Clients,
    client_for,
    cloudformation_client,
    new_account_id,
)

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Description: realistic single-account slice
Parameters:
  Prefix:
    Type: String
    AllowedPattern: '[a-z][a-z0-9-]*'
  PeerAccountId:
    Type: String
    AllowedPattern: '\\d{12}'
  Secret:
    Type: String
    NoEcho: true
    Default: hunter2
Mappings:
  Sizes:
    eu-west-1: {Memory: 256}
Conditions:
  HasPeer: !Not [!Equals [!Ref PeerAccountId, '000000000000']]
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: artifact key
      EnableKeyRotation: true
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Sid: Root
            Effect: Allow
            Principal: {AWS: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'}
            Action: kms:*
            Resource: '*'
          - !If
            - HasPeer
            - Sid: Peer
              Effect: Allow
              Principal:
                AWS: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ml/${Prefix}-training'

              Action: [kms:Decrypt, kms:GenerateDataKey]
              Resource: '*'
            - !Ref AWS::NoValue
  KeyAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: !Sub 'alias/${Prefix}-artifacts'
      TargetKeyId: !Ref Key
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${Prefix}-artifacts-${AWS::AccountId}'
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: !GetAtt Key.Arn
            BucketKeyEnabled: true
      VersioningConfiguration: {Status: Enabled}
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      OwnershipControls:
        Rules: [{ObjectOwnership: BucketOwnerEnforced}]
      LifecycleConfiguration:
        Rules: [{Id: expire, Status: Enabled, Prefix: tmp/, ExpirationInDays: 7}]
      Tags: [{Key: team, Value: ml}]
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Sid: DenyInsecureTransport
            Effect: Deny
            Principal: '*'
            Action: s3:*
            Resource: [!GetAtt Bucket.Arn, !Sub '${Bucket.Arn}/*']
            Condition: {Bool: {aws:SecureTransport: 'false'}}
  ReadPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: !Sub '${Prefix}-read'
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Action: s3:GetObject, Resource: !Sub '${Bucket.Arn}/*'}
  TrainingRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub '${Prefix}-training'
      Path: /ml/
      MaxSessionDuration: 7200
      Description: training
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - {Effect: Allow, Principal: {Service: sagemaker.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns: [!Ref ReadPolicy]
      Policies:
        - PolicyName: write
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - {Effect: Allow, Action: s3:PutObject, Resource: !Sub '${Bucket.Arn}/*'}
      Tags: [{Key: team, Value: ml}]
  ExtraPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [!Ref TrainingRole]
      PolicyDocument:
        Version: '2012-10-17'
        Statement: [{Effect: Allow, Action: kms:Decrypt, Resource: !GetAtt Key.Arn}]
  Repository:
    Type: AWS::CodeCommit::Repository
    Properties:
      RepositoryName: !Sub '${Prefix}-source'
      RepositoryDescription: model source
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub '/ml/${Prefix}'
      RetentionInDays: 14
      KmsKeyId: !GetAtt Key.Arn
  ExpressMachine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineType: EXPRESS
      RoleArn: !GetAtt TrainingRole.Arn
      DefinitionString: !Sub >-
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "${Bucket}", "End": true}}}
      LoggingConfiguration:
        Level: ERROR
        IncludeExecutionData: true
        Destinations:
          - CloudWatchLogsLogGroup: {LogGroupArn: !GetAtt Logs.Arn}
  StateMachine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: !Sub '${Prefix}-train'
      RoleArn: !GetAtt TrainingRole.Arn
      Definition:
        StartAt: Train
        States:
          Train:
            Type: Task
            Resource: arn:aws:states:::sagemaker:createTrainingJob.sync
            Parameters:
              RoleArn: ${TrainingRoleArn}
              OutputDataConfig: {S3OutputPath: '${Output}', KmsKeyId: '${KeyArn}'}
            End: true
      DefinitionSubstitutions:
        TrainingRoleArn: !GetAtt TrainingRole.Arn
        Output: !Sub 's3://${Bucket}/models'
        KeyArn: !GetAtt Key.Arn
      Tags: [{Key: team, Value: ml}]
  Function:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub '${Prefix}-deploy'
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt TrainingRole.Arn
      Timeout: 60
      MemorySize: !FindInMap [Sizes, !Ref 'AWS::Region', Memory]
      Environment:
        Variables: {BUCKET: !Ref Bucket, SECRET: !Ref Secret}
      Code:
        ZipFile: |
          def handler(event, context):
              return {"ok": True}
Outputs:
  BucketName:
    Value: !Ref Bucket
    Export: {Name: !Sub '${AWS::StackName}-bucket'}
  KeyArn:
    Value: !GetAtt Key.Arn
  RoleArn:
    Value: !GetAtt TrainingRole.Arn
  RepositoryCloneUrl:
    Value: !GetAtt Repository.CloneUrlHttp
"""

PEER = "210987654321"
READS = ("Describe", "Get", "List")


def outputs(cloudformation: BaseClient, name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _deploy(cloudformation: BaseClient) -> str:
    cloudformation.create_stack(
        StackName="slice",
        TemplateBody=TEMPLATE,
        Parameters=[
            {"ParameterKey": "Prefix", "ParameterValue": "demo"},
            {"ParameterKey": "PeerAccountId", "ParameterValue": PEER},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    cloudformation.get_waiter("stack_create_complete").wait(StackName="slice", WaiterConfig=FAST)
    return "slice"


@pytest.fixture
def deployed(cloudformation: BaseClient) -> str:
    """The slice in this test's own account, for a test that changes it."""
    return _deploy(cloudformation)


@dataclass(frozen=True)
class Shared:
    """The slice deployed once in an account of its own for the tests that only read it
    (a deploy is ~0.5 s of CPU). Its clients refuse every call but a read, so no test can
    leave a change the tests after it would see."""

    deployed: str
    account_id: str
    cloudformation: BaseClient
    clients: Clients


def _refuse_writes(model: OperationModel, **_: object) -> None:
    if not model.name.startswith(READS):
        raise AssertionError(f"{model.name} would change the slice the read tests share")


def _read_only(client: BaseClient) -> BaseClient:
    client.meta.events.register("before-call", _refuse_writes, unique_id="read-only")
    return client


@pytest.fixture(scope="module")
def shared(moto_url: str, cloudformation_url: str) -> Shared:
    account_id = new_account_id()
    cloudformation = cloudformation_client(cloudformation_url, account_id)
    deployed = _deploy(cloudformation)
    return Shared(
        deployed,
        account_id,
        _read_only(cloudformation),
        lambda service: _read_only(client_for(moto_url, account_id, service)),
    )


def test_the_shared_slice_refuses_writes(shared: Shared) -> None:
    with pytest.raises(AssertionError, match="PutObject would change"):
        shared.clients("s3").put_object(Bucket=f"demo-artifacts-{shared.account_id}", Key="x")
    with pytest.raises(AssertionError, match="DeleteStack would change"):
        shared.cloudformation.delete_stack(StackName=shared.deployed)
    assert (
        shared.clients("s3").list_objects_v2(Bucket=f"demo-artifacts-{shared.account_id}")[
            "KeyCount"
        ]
        == 0
    )


def test_stack_reports_complete_with_outputs_and_masks_no_echo(shared: Shared) -> None:
    cloudformation, deployed, account_id = shared.cloudformation, shared.deployed, shared.account_id
    stack = cloudformation.describe_stacks(StackName=deployed)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Description"] == "realistic single-account slice"
    shown = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert shown == {"Prefix": "demo", "PeerAccountId": PEER, "Secret": "****"}
    out = outputs(cloudformation, deployed)
    assert out["BucketName"] == f"demo-artifacts-{account_id}"
    assert out["RoleArn"] == f"arn:aws:iam::{account_id}:role/ml/demo-training"
    assert out["KeyArn"].startswith(f"arn:aws:kms:eu-west-1:{account_id}:key/")
    assert out["RepositoryCloneUrl"].endswith("/v1/repos/demo-source")
    events = cloudformation.describe_stack_events(StackName=deployed)["StackEvents"]
    assert events[0]["ResourceStatus"] == "CREATE_COMPLETE"
    assert events[0]["LogicalResourceId"] == deployed
    assert "hunter2" not in json.dumps(events, default=str)
    summaries = cloudformation.list_stack_resources(StackName=deployed)["StackResourceSummaries"]
    assert {s["LogicalResourceId"] for s in summaries} == {
        "Key",
        "KeyAlias",
        "Bucket",
        "BucketPolicy",
        "ReadPolicy",
        "TrainingRole",
        "ExtraPolicy",
        "Repository",
        "Logs",
        "StateMachine",
        "Function",
        "ExpressMachine",
    }
    assert cloudformation.get_template(StackName=deployed)["TemplateBody"] == TEMPLATE


def test_bucket_settings_read_back(shared: Shared) -> None:
    clients, account_id = shared.clients, shared.account_id
    s3, bucket = clients("s3"), f"demo-artifacts-{account_id}"
    key_arn = clients("kms").describe_key(KeyId="alias/demo-artifacts")["KeyMetadata"]["Arn"]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key_arn,
    }
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert lifecycle["Expiration"] == {"Days": 7} and lifecycle["ID"] == "expire"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "ml"}]
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    statement = policy["Statement"][0]
    assert statement["Sid"] == "DenyInsecureTransport"
    assert statement["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def test_key_settings_read_back(shared: Shared) -> None:
    clients, account_id = shared.clients, shared.account_id
    kms = clients("kms")
    metadata = kms.describe_key(KeyId="alias/demo-artifacts")["KeyMetadata"]
    assert metadata["Description"] == "artifact key"
    assert kms.get_key_rotation_status(KeyId=metadata["KeyId"])["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"])
    peer = next(s for s in policy["Statement"] if s["Sid"] == "Peer")
    assert peer["Principal"] == {"AWS": f"arn:aws:iam::{account_id}:role/ml/demo-training"}


def test_role_settings_read_back(shared: Shared) -> None:
    clients, account_id = shared.clients, shared.account_id
    iam = clients("iam")
    role = iam.get_role(RoleName="demo-training")["Role"]
    assert role["Path"] == "/ml/" and role["MaxSessionDuration"] == 7200
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"
    }
    attached = iam.list_attached_role_policies(RoleName="demo-training")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [f"arn:aws:iam::{account_id}:policy/demo-read"]
    assert sorted(iam.list_role_policies(RoleName="demo-training")["PolicyNames"]) == [
        "extra",
        "write",
    ]
    write = iam.get_role_policy(RoleName="demo-training", PolicyName="write")["PolicyDocument"]
    assert write["Statement"][0]["Resource"] == f"arn:aws:s3:::demo-artifacts-{account_id}/*"


def test_state_machine_function_repository_logs_read_back(shared: Shared) -> None:
    clients, account_id = shared.clients, shared.account_id
    arn = f"arn:aws:states:eu-west-1:{account_id}:stateMachine:demo-train"
    machine = clients("stepfunctions").describe_state_machine(stateMachineArn=arn)
    definition = json.loads(machine["definition"])
    parameters = definition["States"]["Train"]["Parameters"]
    assert parameters["RoleArn"] == f"arn:aws:iam::{account_id}:role/ml/demo-training"
    assert parameters["OutputDataConfig"]["S3OutputPath"] == (
        f"s3://demo-artifacts-{account_id}/models"
    )
    assert parameters["OutputDataConfig"]["KmsKeyId"].startswith("arn:aws:kms:eu-west-1:")
    assert machine["roleArn"] == parameters["RoleArn"]

    function = clients("lambda").get_function(FunctionName="demo-deploy")
    config = function["Configuration"]
    assert (config["Runtime"], config["Handler"], config["Timeout"], config["MemorySize"]) == (
        "python3.12",
        "index.handler",
        60,
        256,
    )
    assert config["Environment"]["Variables"]["BUCKET"] == f"demo-artifacts-{account_id}"

    express_arn = next(
        m["stateMachineArn"]
        for m in clients("stepfunctions").list_state_machines()["stateMachines"]
        if m["name"].startswith("slice-ExpressMachine-")
    )
    express = clients("stepfunctions").describe_state_machine(stateMachineArn=express_arn)
    assert express["type"] == "EXPRESS"
    assert json.loads(express["definition"])["States"]["P"]["Result"] == (
        f"demo-artifacts-{account_id}"
    )
    assert express["loggingConfiguration"]["level"] == "ERROR"

    repository = clients("codecommit").get_repository(repositoryName="demo-source")
    assert repository["repositoryMetadata"]["repositoryDescription"] == "model source"
    groups = clients("logs").describe_log_groups(logGroupNamePrefix="/ml/demo")["logGroups"]
    assert groups[0]["retentionInDays"] == 14
    assert groups[0]["kmsKeyId"] == parameters["OutputDataConfig"]["KmsKeyId"]


def test_function_from_s3_code_with_stack_tags(
    cloudformation: BaseClient, clients: Clients
) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("app.py", "def handler(event, context):\n    return 1\n")
    s3 = clients("s3")
    s3.create_bucket(
        Bucket="code-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.put_object(Bucket="code-bucket", Key="app.zip", Body=archive.getvalue())
    body = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      Role: !GetAtt Role.Arn
      Code: {S3Bucket: code-bucket, S3Key: app.zip}
Outputs:
  Name: {Value: !Ref Function}
  Arn: {Value: !GetAtt Function.Arn}
"""
    cloudformation.create_stack(
        StackName="s3code",
        TemplateBody=body,
        Capabilities=["CAPABILITY_IAM"],
        Tags=[{"Key": "pipeline", "Value": "mlops"}],
    )
    cloudformation.get_waiter("stack_create_complete").wait(StackName="s3code", WaiterConfig=FAST)
    out = outputs(cloudformation, "s3code")
    assert out["Name"].startswith("s3code-Function-")
    config = clients("lambda").get_function(FunctionName=out["Name"])["Configuration"]
    assert (config["Handler"], config["FunctionArn"]) == ("app.handler", out["Arn"])
    # Stack tags reach every resource that takes tags, as CloudFormation propagates them.
    assert clients("lambda").list_tags(Resource=out["Arn"])["Tags"] == {"pipeline": "mlops"}
    role = config["Role"].rsplit("/", 1)[1]
    assert clients("iam").list_role_tags(RoleName=role)["Tags"] == [
        {"Key": "pipeline", "Value": "mlops"}
    ]


def test_delete_removes_everything(
    cloudformation: BaseClient, clients: Clients, deployed: str, account_id: str
) -> None:
    stack_id = cloudformation.describe_stacks(StackName=deployed)["Stacks"][0]["StackId"]
    cloudformation.delete_stack(StackName=deployed)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack_id, WaiterConfig=FAST)
    assert clients("s3").list_buckets()["Buckets"] == []
    assert clients("iam").list_roles()["Roles"] == []
    assert clients("stepfunctions").list_state_machines()["stateMachines"] == []
    assert clients("lambda").list_functions()["Functions"] == []
    codecommit = clients("codecommit")
    with pytest.raises(codecommit.exceptions.RepositoryDoesNotExistException):
        codecommit.get_repository(repositoryName="demo-source")
    keys = clients("kms").list_keys()["Keys"]
    states = {
        clients("kms").describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] for k in keys
    }
    assert states == {"PendingDeletion"}
    with pytest.raises(cloudformation.exceptions.ClientError, match="does not exist"):
        cloudformation.describe_stacks(StackName=deployed)
    assert (
        cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        == "DELETE_COMPLETE"
    )
