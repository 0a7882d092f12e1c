"""The project's own templates, deployed in order A, B, C and then the training stack (in B),
each into its own moto account, wiring outputs into the next stack's parameters exactly as
the harness does. Moto keeps accounts apart by the `x-moto-account-id` header."""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config

from tests.unit.cloudformation.conftest import FAST, REGION, client_for, new_account_id

INFRA = Path(__file__).resolve().parents[3] / "infra"
PREFIX = "mlops"
PUBLISHER = "arn:aws:iam::{account}:role/ci-publisher"


def _cloudformation(url: str, account: str) -> BaseClient:
    return boto3.client(
        "cloudformation",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=account,
        aws_secret_access_key="testing",
        aws_session_token=None,
        config=Config(retries={"max_attempts": 1}),
    )


def _deploy(client: BaseClient, name: str, body: str, parameters: dict[str, str]) -> dict:
    client.create_stack(
        StackName=name,
        TemplateBody=body,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    try:
        client.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=FAST)
    except Exception:
        events = client.describe_stack_events(StackName=name)["StackEvents"]
        failed = [e for e in events if e["ResourceStatus"].endswith("FAILED")]
        pytest.fail(f"{name} failed: {json.dumps(failed, default=str, indent=1)}")
    stack = client.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


@pytest.fixture
def accounts() -> dict[str, str]:
    return {name: new_account_id() for name in "ABC"}


def test_project_stacks_deploy_in_order_across_three_accounts(
    cloudformation_url: str, moto_url: str, accounts: dict[str, str]
) -> None:
    a, b, c = accounts["A"], accounts["B"], accounts["C"]
    shared = _deploy(
        _cloudformation(cloudformation_url, a),
        f"{PREFIX}-shared-services",
        (INFRA / "templates" / "shared-services.yaml").read_text(),
        {
            "Prefix": PREFIX,
            "TrainingAccountId": b,
            "ProductionAccountId": c,
            "DataPublisherPrincipalArn": PUBLISHER.format(account=a),
        },
    )
    wiring = {
        "Prefix": PREFIX,
        "SharedServicesAccountId": a,
        "ArtifactBucketName": shared["ArtifactBucketName"],
        "ArtifactKeyArn": shared["ArtifactKeyArn"],
    }
    training = _deploy(
        _cloudformation(cloudformation_url, b),
        f"{PREFIX}-training-roles",
        (INFRA / "templates" / "training.yaml").read_text(),
        wiring,
    )
    production = _deploy(
        _cloudformation(cloudformation_url, c),
        f"{PREFIX}-production",
        (INFRA / "templates" / "production.yaml").read_text(),
        wiring,
    )
    config = Template((INFRA / "pipeline" / "training-stack.config.json").read_text())
    rendered = json.loads(config.substitute(Prefix=PREFIX, **shared, **training))
    stack = _deploy(
        _cloudformation(cloudformation_url, b),
        training["TrainingStackName"],
        (INFRA / "pipeline" / "training-stack.yaml").read_text(),
        rendered["Parameters"],
    )

    kms = client_for(moto_url, a, "kms")
    key_id = shared["ArtifactKeyArn"].rsplit("/", 1)[1]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    key_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert f"arn:aws:iam::{b}:root" in json.dumps(key_policy)
    s3 = client_for(moto_url, a, "s3")
    bucket = shared["ArtifactBucketName"]
    sids = [
        s["Sid"] for s in json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    ]
    assert "DenyPutUnderAnyOtherKey" in sids
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert client_for(moto_url, a, "codecommit").get_repository(
        repositoryName=shared["RepositoryName"]
    )
    assert training["SageMakerTrainingRoleArn"].startswith(f"arn:aws:iam::{b}:role/")
    function = client_for(moto_url, c, "lambda").get_function(
        FunctionName=production["DeployFunctionName"]
    )
    assert function["Concurrency"]["ReservedConcurrentExecutions"] == 1
    machine = client_for(moto_url, b, "stepfunctions").describe_state_machine(
        stateMachineArn=stack["StateMachineArn"]
    )
    train = json.loads(machine["definition"])["States"]["Train"]["Parameters"]
    assert train["OutputDataConfig"]["KmsKeyId"] == shared["ArtifactKeyArn"]
    assert train["RoleArn"] == training["SageMakerTrainingRoleArn"]
    assert train["AlgorithmSpecification"]["TrainingImage"] == (
        f"141502667606.dkr.ecr.{REGION}.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
    assert "${" not in machine["definition"]
