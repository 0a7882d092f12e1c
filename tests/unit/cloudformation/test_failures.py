"""Failures must look like CloudFormation's: request errors as ValidationError, resource
errors as *_FAILED events naming the resource and reason, then a rollback that leaves
nothing behind."""

from __future__ import annotations

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError, WaiterError

from harness.cloudformation import CloudFormationService
from harness.deadlines import poll
from harness.targets.local.faults import BeforeProvider
from tests.unit.cloudformation.conftest import FAST, Clients

BUCKET_THEN = """
Resources:
  First:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'first-${AWS::AccountId}'
      VersioningConfiguration: {Status: Enabled}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Second:
    DependsOn: [First, Role]
%s
"""


def _create_and_fail(cloudformation: BaseClient, body: str) -> list[dict]:
    cloudformation.create_stack(
        StackName="failing", TemplateBody=body, Capabilities=["CAPABILITY_IAM"]
    )
    with pytest.raises(WaiterError, match="ROLLBACK_COMPLETE"):
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName="failing", WaiterConfig=FAST
        )
    stack = cloudformation.describe_stacks(StackName="failing")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"].startswith(
        "The following resource(s) failed to create: [Second]"
    )
    return cloudformation.describe_stack_events(StackName="failing")["StackEvents"]


def _assert_nothing_left(clients: Clients) -> None:
    assert clients("s3").list_buckets()["Buckets"] == []
    assert clients("iam").list_roles()["Roles"] == []


def test_unsupported_type_fails_naming_it_and_rolls_back(
    cloudformation: BaseClient, clients: Clients
) -> None:
    events = _create_and_fail(
        cloudformation, BUCKET_THEN % "    Type: AWS::SNS::Topic\n    Properties: {TopicName: t}"
    )
    failed = next(e for e in events if e["ResourceStatus"] == "CREATE_FAILED")
    assert failed["LogicalResourceId"] == "Second"
    assert "AWS::SNS::Topic is not supported" in failed["ResourceStatusReason"]
    deleted = {e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "DELETE_COMPLETE"}
    assert deleted == {"First", "Role"}
    _assert_nothing_left(clients)


def test_unsupported_property_fails_naming_it(cloudformation: BaseClient, clients: Clients) -> None:
    body = BUCKET_THEN % (
        "    Type: AWS::S3::Bucket\n    Properties:\n      AccelerateConfiguration:\n"
        "        AccelerationStatus: Enabled"
    )
    failed = next(
        e for e in _create_and_fail(cloudformation, body) if e["ResourceStatus"] == "CREATE_FAILED"
    )
    assert failed["ResourceStatusReason"] == (
        "Property AccelerateConfiguration of resource Second (AWS::S3::Bucket) is not supported "
        "by the local CloudFormation engine"
    )
    _assert_nothing_left(clients)


def test_failing_service_call_reports_handler_message_and_rolls_back(
    cloudformation: BaseClient, clients: Clients
) -> None:
    body = BUCKET_THEN % (
        "    Type: AWS::S3::BucketPolicy\n    Properties:\n      Bucket: no-such-bucket-anywhere\n"
        "      PolicyDocument: {Statement: [{Effect: Deny, Principal: '*', Action: 's3:*',"
        " Resource: '*'}]}"
    )
    failed = next(
        e for e in _create_and_fail(cloudformation, body) if e["ResourceStatus"] == "CREATE_FAILED"
    )
    reason = failed["ResourceStatusReason"]
    assert reason.startswith('Resource handler returned message: "The specified bucket does not')
    assert "(Service: S3, Status Code: 404, Request ID: " in reason
    assert reason.endswith("(HandlerErrorCode: NoSuchBucket)")
    _assert_nothing_left(clients)


def test_disable_rollback_keeps_what_was_created(
    cloudformation: BaseClient, clients: Clients
) -> None:
    cloudformation.create_stack(
        StackName="kept",
        TemplateBody=BUCKET_THEN % "    Type: AWS::SNS::Topic",
        Capabilities=["CAPABILITY_IAM"],
        DisableRollback=True,
    )
    with pytest.raises(WaiterError, match="CREATE_FAILED"):
        cloudformation.get_waiter("stack_create_complete").wait(StackName="kept", WaiterConfig=FAST)
    assert len(clients("s3").list_buckets()["Buckets"]) == 1


@pytest.mark.parametrize(
    ("body", "parameters", "capabilities", "message"),
    [
        pytest.param(
            "Resources:\n  A: {Type: AWS::S3::Bucket, DependsOn: B}\n"
            "  B: {Type: AWS::S3::Bucket, Properties: {BucketName: !Ref A}}\n"
            "  C: {Type: AWS::S3::Bucket, DependsOn: A}\n",
            {},
            [],
            r"Circular dependency between resources: \[A, B\]",
            id="cycle",
        ),
        pytest.param(
            "Parameters:\n  Name: {Type: String}\nResources:\n  A: {Type: AWS::S3::Bucket}\n",
            {},
            [],
            r"Parameters: \[Name\] must have values",
            id="missing-parameter",
        ),
        pytest.param(
            "Parameters:\n  Id: {Type: String, AllowedPattern: '\\d{12}', "
            "ConstraintDescription: must be an account id}\n"
            "Resources:\n  A: {Type: AWS::S3::Bucket}\n",
            {"Id": "123"},
            [],
            "Parameter 'Id' must be an account id",
            id="pattern",
        ),
        pytest.param(
            "Resources:\n  A: {Type: AWS::S3::Bucket}\n",
            {"Extra": "x"},
            [],
            r"Parameters: \[Extra\] do not exist in the template",
            id="unknown-parameter",
        ),
        pytest.param(
            "Resources:\n  A: {Type: AWS::S3::Bucket, Properties: {BucketName: !Cidr [a, 1, 2]}}\n",
            {},
            [],
            "Fn::Cidr at /Resources/A/Properties/BucketName is not supported",
            id="unsupported-function",
        ),
        pytest.param(
            "Resources:\n  A: {Type: AWS::Made::Up}\n",
            {},
            [],
            r"Unrecognized resource types: \[AWS::Made::Up\]",
            id="unknown-type",
        ),
        pytest.param(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  A: {Type: AWS::S3::Bucket}\n",
            {},
            [],
            "Transform .* is not supported",
            id="transform",
        ),
        pytest.param(
            "Resources:\n  A: {Type: AWS::S3::Bucket}\n"
            "  B: {Type: AWS::S3::Bucket, Properties: {BucketName: !GetAtt A.Nope}}\n",
            {},
            [],
            "does not support attribute type Nope",
            id="bad-getatt",
        ),
        pytest.param(
            "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r\n"
            "      AssumeRolePolicyDocument: {}\n",
            {},
            ["CAPABILITY_IAM"],
            r"Requires capabilities : \[CAPABILITY_NAMED_IAM\]",
            id="named-iam",
        ),
    ],
)
def test_bad_requests_are_validation_errors(
    cloudformation: BaseClient, body: str, parameters: dict, capabilities: list, message: str
) -> None:
    with pytest.raises(ClientError, match=message) as raised:
        cloudformation.create_stack(
            StackName="bad",
            TemplateBody=body,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=capabilities,
        )
    assert raised.value.response["Error"]["Code"] in (
        "ValidationError",
        "InsufficientCapabilitiesException",
    )
    assert cloudformation.describe_stacks()["Stacks"] == []


def test_unknown_stack_and_duplicate_name(cloudformation: BaseClient) -> None:
    with pytest.raises(ClientError, match="Stack with id ghost does not exist"):
        cloudformation.describe_stacks(StackName="ghost")
    body = "Resources:\n  A: {Type: AWS::Logs::LogGroup}\n"
    cloudformation.create_stack(StackName="once", TemplateBody=body)
    with pytest.raises(cloudformation.exceptions.AlreadyExistsException):
        cloudformation.create_stack(StackName="once", TemplateBody=body)
    cloudformation.get_waiter("stack_create_complete").wait(StackName="once", WaiterConfig=FAST)


def test_validate_template_reports_parameters_and_capability(cloudformation: BaseClient) -> None:
    body = (
        "Description: d\nParameters:\n  P: {Type: String, Default: x, NoEcho: true}\n"
        "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: r\n"
        "      AssumeRolePolicyDocument: {}\n"
    )
    result = cloudformation.validate_template(TemplateBody=body)
    assert result["Description"] == "d"
    assert result["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert result["Parameters"][0]["ParameterKey"] == "P"
    assert result["Parameters"][0]["NoEcho"] is True


def test_delete_abandons_a_stuck_create_and_removes_what_it_made(
    cloudformation: BaseClient,
    clients: Clients,
    cloudformation_service: CloudFormationService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hang = BeforeProvider(hang_on="AWS::IAM::Role")
    monkeypatch.setattr(cloudformation_service, "before_provider", hang)
    body = BUCKET_THEN % "    Type: AWS::S3::Bucket"
    cloudformation.create_stack(
        StackName="stuck", TemplateBody=body, Capabilities=["CAPABILITY_IAM"]
    )
    try:
        for _ in poll("the bucket before the stuck role", 10):
            if clients("s3").list_buckets()["Buckets"]:
                break
        cloudformation.delete_stack(StackName="stuck")
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName="stuck", WaiterConfig=FAST
        )
    finally:
        hang.release()
    assert cloudformation_service.wait(10) == []  # the stuck step ended, creating nothing
    _assert_nothing_left(clients)
