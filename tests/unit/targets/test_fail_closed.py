"""Unknown is refused: an operation whose resource the gateway cannot work out is denied with
a message naming it, for every service the local target serves, while an action that truly
has no resource type (``*`` in AWS's Service Authorization Reference) is still decided by
policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget

ACCOUNT = "shared-services"
Call = Callable[[BaseClient], Any]


def _not_mapped(operation: str) -> tuple[str, str]:
    """The operation as logged, and the refusal AWS's error message must contain."""
    return operation, f"{operation} is not mapped to an IAM action and resource by the local target"


# service -> (operation as logged, refusal, a call whose resource the table cannot work out)
UNMAPPED: dict[str, tuple[str, str, Call]] = {
    # Every S3 operation names a bucket or has no resource type, so S3's unmapped request is
    # one no operation model matches: WriteGetObjectResponse signs as s3-object-lambda.
    "s3": (
        "unknown",
        "the local target cannot map this request to an AWS operation (no operation of "
        "'s3-object-lambda' matches POST /WriteGetObjectResponse)",
        lambda c: c.write_get_object_response(RequestRoute="r", RequestToken="t", Body=b"x"),
    ),
    "kms": (*_not_mapped("kms:RetireGrant"), lambda c: c.retire_grant(GrantToken="token")),
    "sts": (*_not_mapped("sts:GetFederationToken"), lambda c: c.get_federation_token(Name="bob")),
    "iam": (
        *_not_mapped("iam:CreateServiceLinkedRole"),
        lambda c: c.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com"),
    ),
    "stepfunctions": (*_not_mapped("states:CreateActivity"), lambda c: c.create_activity(name="a")),
    "sagemaker": (
        *_not_mapped("sagemaker:DescribeNotebookInstance"),
        lambda c: c.describe_notebook_instance(NotebookInstanceName="n"),
    ),
    "lambda": (
        *_not_mapped("lambda:GetLayerVersion"),
        lambda c: c.get_layer_version(LayerName="l", VersionNumber=1),
    ),
    "codepipeline": (
        *_not_mapped("codepipeline:DeleteCustomActionType"),
        lambda c: c.delete_custom_action_type(category="Build", provider="p", version="1"),
    ),
    "cloudformation": (
        *_not_mapped("cloudformation:DescribeStackSet"),
        lambda c: c.describe_stack_set(StackSetName="s"),
    ),
    "codecommit": (
        *_not_mapped("codecommit:BatchGetRepositories"),
        lambda c: c.batch_get_repositories(repositoryNames=["r"]),
    ),
    "logs": (
        *_not_mapped("logs:PutDestination"),
        lambda c: c.put_destination(
            destinationName="d",
            targetArn="arn:aws:kinesis:us-east-1:111111111111:stream/s",
            roleArn="arn:aws:iam::111111111111:role/r",
        ),
    ),
    "events": (*_not_mapped("events:CreateEventBus"), lambda c: c.create_event_bus(Name="ops")),
}

# service -> (IAM action, a call of an action that has no resource type)
STAR: dict[str, tuple[str, Call]] = {
    "s3": ("s3:ListAllMyBuckets", lambda c: c.list_buckets()),
    "kms": ("kms:ListKeys", lambda c: c.list_keys()),
    "sts": (
        "sts:DecodeAuthorizationMessage",
        lambda c: c.decode_authorization_message(EncodedMessage="x"),
    ),
    "iam": ("iam:ListRoles", lambda c: c.list_roles()),
    "stepfunctions": ("states:ListStateMachines", lambda c: c.list_state_machines()),
    "sagemaker": ("sagemaker:ListTrainingJobs", lambda c: c.list_training_jobs()),
    "lambda": ("lambda:ListFunctions", lambda c: c.list_functions()),
    "codepipeline": ("codepipeline:ListPipelines", lambda c: c.list_pipelines()),
    "cloudformation": ("cloudformation:ListStacks", lambda c: c.list_stacks()),
    "codecommit": ("codecommit:ListRepositories", lambda c: c.list_repositories()),
    "logs": ("logs:DescribeResourcePolicies", lambda c: c.describe_resource_policies()),
    "events": ("events:ListRules", lambda c: c.list_rules()),
}


def _client(target: LocalTarget, service: str, session: boto3.Session) -> BaseClient:
    """A client that keeps requests on the target's host (no host prefix such as S3 Object
    Lambda's ``{RequestRoute}.``)."""
    settings = target.client_settings(service)
    settings["config"] = settings["config"].merge(Config(inject_host_prefix=False))
    return session.client(service, region_name=target.region, **settings)


def _request_id(call: Callable[[], Any]) -> tuple[str, dict[str, Any] | None]:
    """The request id of a call's answer, and its error if it failed."""
    try:
        return call()["ResponseMetadata"]["RequestId"], None
    except ClientError as error:
        return error.response["ResponseMetadata"]["RequestId"], error.response["Error"]


@pytest.fixture(scope="module")
def nobody(target: LocalTarget) -> boto3.Session:
    """A role of the account with no identity policy at all."""
    account = target.accounts[ACCOUNT]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = target.client("iam", target.session(ACCOUNT))
    arn = iam.create_role(RoleName="nobody", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    return target.session(ACCOUNT, role_arn=arn, session_name="nobody")


@pytest.mark.parametrize("service", sorted(UNMAPPED))
def test_an_unmapped_operation_is_refused_naming_it(target: LocalTarget, service: str) -> None:
    operation, refusal, call = UNMAPPED[service]
    client = _client(target, service, target.session(ACCOUNT))
    request_id, error = _request_id(lambda: call(client))
    assert error is not None and error["Code"] in ("AccessDenied", "AccessDeniedException")
    assert f"{refusal}; refused" in error["Message"]
    (logged,) = target.decision_log.for_request(request_id)
    assert (logged["operation"], logged["decision"]) == (operation, "deny")
    assert logged["reason"].startswith(refusal)


@pytest.mark.parametrize("service", sorted(STAR))
def test_an_action_without_resource_type_is_decided_by_policy(
    target: LocalTarget, nobody: boto3.Session, service: str
) -> None:
    action, call = STAR[service]
    refused_id, error = _request_id(lambda: call(_client(target, service, nobody)))
    assert error is not None and error["Code"] in ("AccessDenied", "AccessDeniedException")
    (refused,) = target.decision_log.for_request(refused_id)
    assert (refused["action"], refused["resource"], refused["decision"]) == (action, "*", "deny")
    assert refused["lacking"] == ["identity"]
    allowed_id, _ = _request_id(lambda: call(_client(target, service, target.session(ACCOUNT))))
    (allowed,) = target.decision_log.for_request(allowed_id)
    assert (allowed["action"], allowed["decision"]) == (action, "allow")
    assert [s["sid"] for s in allowed["deciding"]] == ["AdministratorAccess"]
