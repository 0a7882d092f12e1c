"""The query-protocol handler on its own: who the caller is (from the signature's credential
scope), which role the factory is asked for, exports between stacks, and XML that botocore's
own parser reads."""

from __future__ import annotations

from typing import Any

from botocore.parsers import create_parser

from harness.cloudformation import query
from harness.cloudformation.api import CloudFormationApi
from harness.cloudformation.errors import ValidationError
from harness.cloudformation.service import Caller, CloudFormationService
from tests.unit.cloudformation.conftest import Clients, client_for, new_account_id

AUTH = "AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/cloudformation/aws4_request, ..."


def _parse(operation: str, status: int, body: bytes) -> dict[str, Any]:
    """Parse our response exactly as a boto3 client would."""
    model = query.service_model().operation_model(operation)
    return create_parser("query").parse(
        {"status_code": status, "headers": {}, "body": body}, model.output_shape
    )


def _service(moto_url: str, asked: list[tuple[Caller, str | None]]) -> CloudFormationService:
    def clients_for(caller: Caller, role_arn: str | None) -> Clients:
        asked.append((caller, role_arn))
        return lambda service: client_for(moto_url, caller.account_id, service)

    return CloudFormationService(clients_for, run_in_background=False)


def test_caller_role_tags_and_exports(moto_url: str) -> None:
    asked: list[tuple[Caller, str | None]] = []
    account = new_account_id()
    api = CloudFormationApi(_service(moto_url, asked), account_of=lambda key: account)
    auth = AUTH.format(key="AKIDEXAMPLE", region="eu-central-1")
    role = f"arn:aws:iam::{account}:role/cfn"
    status, body = api.handle(
        {
            "Action": "CreateStack",
            "StackName": "exporter",
            "TemplateBody": "Parameters:\n  N: {Type: String}\nResources:\n"
            "  L: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: !Ref N}}\n"
            "Outputs:\n  Name: {Value: !Ref L, Export: {Name: shared-log-group}}\n",
            "Parameters.member.1.ParameterKey": "N",
            "Parameters.member.1.ParameterValue": "exported",
            "Tags.member.1.Key": "team",
            "Tags.member.1.Value": "ml",
            "RoleARN": role,
        },
        auth,
    )
    assert status == 200, body
    stack_id = _parse("CreateStack", status, body)["StackId"]
    assert stack_id.startswith(f"arn:aws:cloudformation:eu-central-1:{account}:stack/exporter/")
    assert asked == [(Caller(account, "eu-central-1", "AKIDEXAMPLE"), role)]

    status, body = api.handle({"Action": "DescribeStacks", "StackName": "exporter"}, auth)
    described = _parse("DescribeStacks", status, body)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert described["RoleARN"] == role
    assert described["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert described["Outputs"][0]["ExportName"] == "shared-log-group"

    status, body = api.handle(
        {
            "Action": "CreateStack",
            "StackName": "importer",
            "TemplateBody": "Resources:\n  L:\n    Type: AWS::Logs::LogGroup\n    Properties:\n"
            "      LogGroupName: !Sub ['${N}-copy', {N: !ImportValue shared-log-group}]\n",
        },
        auth,
    )
    assert status == 200, body
    status, body = api.handle({"Action": "DescribeStackResources", "StackName": "importer"}, auth)
    resources = _parse("DescribeStackResources", status, body)["StackResources"]
    assert [r["PhysicalResourceId"] for r in resources] == ["exported-copy"]

    status, body = api.handle({"Action": "ListExports"}, auth)
    exports = _parse("ListExports", status, body)["Exports"]
    assert exports == [
        {"ExportingStackId": stack_id, "Name": "shared-log-group", "Value": "exported"}
    ]
    status, body = api.handle(
        {"Action": "ListStacks", "StackStatusFilter.member.1": "CREATE_COMPLETE"}, auth
    )
    names = [s["StackName"] for s in _parse("ListStacks", status, body)["StackSummaries"]]
    assert names == ["importer", "exporter"]

    status, body = api.handle(
        {"Action": "DescribeStacks", "StackName": "exporter"},
        AUTH.format(key="AKIDEXAMPLE", region="us-west-2"),
    )
    assert status == 400
    assert "does not exist" in _parse("DescribeStacks", status, body)["Error"]["Message"]


def test_unknown_action_and_missing_template(moto_url: str) -> None:
    api = CloudFormationApi(_service(moto_url, []))
    status, body = api.handle({"Action": "Explode"})
    assert (status, _parse("DescribeStacks", status, body)["Error"]["Code"]) == (
        400,
        "InvalidAction",
    )
    status, body = api.handle({"Action": "CreateStack", "StackName": "s"})
    error = _parse("CreateStack", status, body)["Error"]
    assert (status, error["Code"]) == (400, "ValidationError")
    assert "Template Body must be specified" in error["Message"]


def test_a_role_that_cannot_be_assumed_rejects_the_request() -> None:
    def clients_for(caller: Caller, role_arn: str | None) -> Clients:
        raise ValidationError(f"Role {role_arn} is invalid or cannot be assumed")

    service = CloudFormationService(clients_for, run_in_background=False)
    api = CloudFormationApi(service)
    status, body = api.handle(
        {
            "Action": "CreateStack",
            "StackName": "s",
            "TemplateBody": "Resources:\n  L: {Type: AWS::Logs::LogGroup}\n",
            "RoleARN": "arn:aws:iam::123456789012:role/nope",
        }
    )
    assert status == 400
    assert "cannot be assumed" in _parse("CreateStack", status, body)["Error"]["Message"]
    status, body = api.handle({"Action": "DescribeStacks"})
    assert _parse("DescribeStacks", status, body)["Stacks"] == []
