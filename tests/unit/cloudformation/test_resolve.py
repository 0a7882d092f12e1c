"""The pure resolution step: intrinsics, conditions, parameters and predicted names, with no
AWS call at all (this is what static analysis of rendered templates uses)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from harness.cloudformation.errors import ValidationError
from harness.cloudformation.resolve import resolve

ACCOUNT, REGION, STACK = "123456789012", "eu-west-1", "demo"
INFRA = Path(__file__).resolve().parents[3] / "infra"


def _value(expression: object, parameters: dict | None = None, extra: str = "") -> object:
    """Resolve `expression` as the only output of a one-bucket template."""
    template = {
        "Parameters": {
            "Name": {"Type": "String", "Default": "alpha"},
            "Ids": {"Type": "CommaDelimitedList", "Default": "a,b,c"},
            "Sizes": {"Type": "List<Number>", "Default": "1,2"},
            "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
        },
        "Mappings": {"Region": {REGION: {"Zone": "z1"}}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["x", "x"]}]},
            "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["1", 1]}]},
        },
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "b-1"}},
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {"RoleName": "r", "Path": "/p/", "AssumeRolePolicyDocument": {}},
            },
        },
        "Outputs": {"Out": {"Value": expression}},
    }
    return resolve(template, parameters or {}, ACCOUNT, REGION, STACK).outputs["Out"].value


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Ref": "Name"}, "alpha"),
        ({"Ref": "Bucket"}, "b-1"),
        ({"Ref": "AWS::AccountId"}, ACCOUNT),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Fn::GetAtt": ["Role", "Arn"]}, f"arn:aws:iam::{ACCOUNT}:role/p/r"),
        ({"Fn::GetAtt": "Bucket.Arn"}, "arn:aws:s3:::b-1"),
        (
            {"Fn::Sub": "${Name}-${AWS::Region}-${Bucket}-${Role.Arn}"},
            f"alpha-{REGION}-b-1-arn:aws:iam::{ACCOUNT}:role/p/r",
        ),
        ({"Fn::Sub": "${!Literal}-${Name}"}, "${Literal}-alpha"),
        ({"Fn::Sub": ["${X}/${Name}", {"X": {"Ref": "AWS::StackName"}}]}, f"{STACK}/alpha"),
        ({"Fn::Join": [",", {"Ref": "Ids"}]}, "a,b,c"),
        ({"Fn::Select": [1, {"Ref": "Ids"}]}, "b"),
        ({"Fn::Select": ["0", {"Fn::Split": ["/", "x/y"]}]}, "x"),
        ({"Ref": "Sizes"}, ["1", "2"]),
        ({"Fn::If": ["IsProd", "p", "d"]}, "d"),
        ({"Fn::If": ["Both", "yes", "no"]}, "yes"),
        ({"Fn::If": ["Either", "yes", "no"]}, "yes"),
        ({"Fn::FindInMap": ["Region", {"Ref": "AWS::Region"}, "Zone"]}, "z1"),
        ({"Fn::FindInMap": ["Region", "nowhere", "Zone", {"DefaultValue": "dflt"}]}, "dflt"),
        ({"Fn::Select": [2, {"Fn::GetAZs": ""}]}, f"{REGION}c"),
        ({"Fn::Base64": "hi"}, base64.b64encode(b"hi").decode()),
        ([{"Fn::If": ["IsProd", "p", {"Ref": "AWS::NoValue"}]}, "kept"], ["kept"]),
    ],
)
def test_intrinsics(expression: object, expected: object) -> None:
    assert _value(expression) == expected


def test_conditions_drop_resources_and_outputs() -> None:
    template = {
        "Parameters": {"Env": {"Type": "String"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
        "Resources": {
            "Always": {"Type": "AWS::Logs::LogGroup"},
            "ProdOnly": {"Type": "AWS::Logs::LogGroup", "Condition": "IsProd"},
        },
        "Outputs": {"P": {"Condition": "IsProd", "Value": {"Ref": "ProdOnly"}}},
    }
    dev = resolve(template, {"Env": "dev"}, ACCOUNT, REGION, STACK)
    assert (
        list(dev.resources) == ["Always"]
        and dev.outputs == {}
        and dev.conditions == {"IsProd": False}
    )
    prod = resolve(template, {"Env": "prod"}, ACCOUNT, REGION, STACK)
    assert set(prod.resources) == {"Always", "ProdOnly"}
    assert prod.outputs["P"].value == prod.resources["ProdOnly"].physical_id


def test_physical_ids_override_predictions_and_order_follows_dependencies() -> None:
    template = """
Resources:
  Alias: {Type: AWS::KMS::Alias, Properties: {AliasName: alias/k, TargetKeyId: !Ref Key}}
  Key: {Type: AWS::KMS::Key, Properties: {Description: k}}
Outputs:
  Arn: {Value: !GetAtt Key.Arn}
"""
    resolved = resolve(template, {}, ACCOUNT, REGION, STACK, physical_ids={"Key": "kid-1"})
    assert list(resolved.resources) == ["Key", "Alias"]
    assert resolved.resources["Alias"].properties["TargetKeyId"] == "kid-1"
    assert resolved.resources["Alias"].depends_on == ("Key",)
    assert resolved.outputs["Arn"].value == f"arn:aws:kms:{REGION}:{ACCOUNT}:key/kid-1"


@pytest.mark.parametrize(
    ("parameters", "given", "message"),
    [
        ({"N": {"Type": "Number", "MaxValue": 5}}, {"N": "9"}, "not greater than 5"),
        ({"N": {"Type": "Number"}}, {"N": "x"}, "must be a number"),
        ({"S": {"Type": "String", "MinLength": 3}}, {"S": "ab"}, "at least 3 characters"),
        ({"S": {"Type": "String", "AllowedValues": ["a"]}}, {"S": "b"}, "AllowedValues"),
        ({"L": {"Type": "List<Number>"}}, {"L": "1,x"}, "must be a number"),
        ({"S": {"Type": "Strin"}}, {"S": "x"}, "Unrecognized parameter type"),
    ],
)
def test_parameter_constraints(parameters: dict, given: dict, message: str) -> None:
    template = {"Parameters": parameters, "Resources": {"L": {"Type": "AWS::Logs::LogGroup"}}}
    with pytest.raises(ValidationError, match=message):
        resolve(template, given, ACCOUNT, REGION, STACK)


def test_no_echo_values_are_masked_when_shown() -> None:
    template = {
        "Parameters": {"Secret": {"Type": "String", "NoEcho": True}},
        "Resources": {"L": {"Type": "AWS::Logs::LogGroup"}},
    }
    bound = resolve(template, {"Secret": "s3cr3t"}, ACCOUNT, REGION, STACK).parameters["Secret"]
    assert (bound.value, bound.shown) == ("s3cr3t", "****")


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"A": {"Type": "AWS::Logs::LogGroup", "DependsOn": "Nope"}}, r"dependencies \[Nope\]"),
        (
            {"A": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Ref": "Nope"}}}},
            r"Unresolved resource dependencies \[Nope\]",
        ),
        (
            {
                "A": {"Type": "AWS::Logs::LogGroup", "DependsOn": "B"},
                "B": {"Type": "AWS::Logs::LogGroup", "DependsOn": "A"},
                "Downstream": {"Type": "AWS::Logs::LogGroup", "DependsOn": "A"},
            },
            r"Circular dependency between resources: \[A, B\]$",
        ),
        ({"A": {"Type": "AWS::Logs::LogGroup", "Condition": "Missing"}}, "Unresolved condition"),
    ],
)
def test_template_errors_name_the_culprit(resources: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        resolve({"Resources": resources}, {}, ACCOUNT, REGION, STACK)


def test_import_value_reads_exports() -> None:
    template = {
        "Resources": {"L": {"Type": "AWS::Logs::LogGroup"}},
        "Outputs": {"X": {"Value": {"Fn::ImportValue": "shared-bucket"}}},
    }
    resolved = resolve(template, {}, ACCOUNT, REGION, STACK, exports={"shared-bucket": "bkt"})
    assert resolved.outputs["X"].value == "bkt"
    with pytest.raises(ValidationError, match="No export named shared-bucket"):
        resolve(template, {}, ACCOUNT, REGION, STACK)


def test_project_templates_render_statically_in_order() -> None:
    """A, B, C and the training stack render without deploying, outputs feeding parameters,
    as static analysis (the access matrix) needs."""
    a, b, c = "111111111111", "222222222222", "333333333333"

    def render(path: str, account: str, name: str, parameters: dict) -> dict:
        resolved = resolve((INFRA / path).read_text(), parameters, account, REGION, name)
        return {key: output.value for key, output in resolved.outputs.items()}

    shared = render(
        "templates/shared-services.yaml",
        a,
        "mlops-shared-services",
        {
            "TrainingAccountId": b,
            "ProductionAccountId": c,
            "DataPublisherPrincipalArn": f"arn:aws:iam::{a}:role/ci",
        },
    )
    assert shared["ArtifactKeyArn"].startswith(f"arn:aws:kms:{REGION}:{a}:key/")
    assert shared["PipelineRoleArn"] == f"arn:aws:iam::{a}:role/mlops-pipeline"
    wiring = {
        "SharedServicesAccountId": a,
        "ArtifactBucketName": shared["ArtifactBucketName"],
        "ArtifactKeyArn": shared["ArtifactKeyArn"],
    }
    training = render("templates/training.yaml", b, "mlops-training-roles", wiring)
    assert (
        training["SageMakerTrainingRoleArn"] == f"arn:aws:iam::{b}:role/mlops-b-sagemaker-training"
    )
    production = render("templates/production.yaml", c, "mlops-production", wiring)
    assert production["DeployFunctionName"] == "mlops-deploy-endpoint"
    stack = resolve(
        (INFRA / "pipeline" / "training-stack.yaml").read_text(),
        {
            "Prefix": "mlops",
            "StateMachineRoleArn": training["StateMachineRoleArn"],
            "TrainingRoleArn": training["SageMakerTrainingRoleArn"],
            "ArtifactBucketName": shared["ArtifactBucketName"],
            "ArtifactKeyArn": shared["ArtifactKeyArn"],
        },
        b,
        REGION,
        training["TrainingStackName"],
    )
    machine = stack.resources["TrainingStateMachine"].properties
    assert machine["DefinitionSubstitutions"]["ArtifactKeyArn"] == shared["ArtifactKeyArn"]
    assert stack.outputs["StateMachineArn"].value == (
        f"arn:aws:states:{REGION}:{b}:stateMachine:mlops-training"
    )


def test_scalars_are_typed_by_the_resource_schema() -> None:
    template = """
Parameters:
  Flag: {Type: String, Default: 'true'}
  Seconds: {Type: Number, Default: 7200}
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      PublicAccessBlockConfiguration: {BlockPublicAcls: !Ref Flag}
      Tags: [{Key: k, Value: !Ref Flag}]
  Role:
    Type: AWS::IAM::Role
    Properties:
      MaxSessionDuration: !Ref Seconds
      AssumeRolePolicyDocument: {Statement: [{Condition: {Bool: {aws:SecureTransport: 'true'}}}]}
"""
    resources = resolve(template, {}, ACCOUNT, REGION, STACK).resources
    bucket, role = resources["Bucket"].properties, resources["Role"].properties
    assert bucket["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    assert bucket["Tags"][0]["Value"] == "true"
    assert role["MaxSessionDuration"] == 7200
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Condition"]["Bool"]["aws:SecureTransport"] == "true"
