"""Every answer of the local target carries the gateway's request id, in the place boto3 reads
it, and that id finds the request's decisions in the decision log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.evidence import DecisionEvidence, PolicyKind
from harness.gateway.credentials import CredentialStore
from harness.targets.local import LocalTarget
from harness.targets.local.decision_log import DecisionLog
from harness.targets.local.gateway import Gateway
from harness.targets.local.server import Listener
from harness.targets.sessions import new_session

Outputs = dict[str, dict[str, str]]
PIPELINE = "codepipeline.amazonaws.com"


def _refused(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response


def _decisions(target: LocalTarget, response: dict[str, Any]) -> list[DecisionEvidence]:
    request_id = response["ResponseMetadata"]["RequestId"]
    lines = target.decision_log.for_request(request_id)
    assert lines, f"no decision logged for request {request_id}"
    assert {line["request_id"] for line in lines} == {request_id}
    return [DecisionEvidence.from_log(line) for line in lines]


@pytest.fixture(scope="module")
def pipeline(target: LocalTarget, outputs: Outputs) -> boto3.Session:
    return target.session_as_service(outputs["shared-services"]["PipelineRoleArn"], PIPELINE)


def test_allowed_sse_kms_put_finds_the_put_and_the_kms_call_on_behalf(
    target: LocalTarget, outputs: Outputs, pipeline: boto3.Session
) -> None:
    shared = outputs["shared-services"]
    response = target.client("s3", pipeline).put_object(
        Bucket=shared["ArtifactBucketName"],
        Key="mlops/request-id.txt",
        Body=b"x",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=shared["ArtifactKeyArn"],
    )
    put, generate = _decisions(target, response)
    assert (put.action, put.allowed) == ("s3:PutObject", True)
    assert (generate.action, generate.resource, generate.allowed) == (
        "kms:GenerateDataKey",
        shared["ArtifactKeyArn"],
        True,
    )
    assert "(via s3.amazonaws.com)" in generate.principal
    assert PolicyKind.KEY in generate.decided_by
    assert set(generate.deciding) <= set(generate.matched)
    assert response["ResponseMetadata"]["HostId"]


def test_streamed_get_carries_the_request_id_in_its_headers(
    target: LocalTarget, outputs: Outputs, pipeline: boto3.Session
) -> None:
    shared = outputs["shared-services"]
    s3 = target.client("s3", pipeline)
    s3.put_object(
        Bucket=shared["ArtifactBucketName"],
        Key="mlops/streamed.bin",
        Body=b"y" * 100_000,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=shared["ArtifactKeyArn"],
    )
    response = s3.get_object(Bucket=shared["ArtifactBucketName"], Key="mlops/streamed.bin")
    assert response["Body"].read() == b"y" * 100_000
    actions = [d.action for d in _decisions(target, response)]
    assert actions == ["s3:GetObject", "kms:Decrypt"]


def test_denied_put_cites_every_overlapping_deny(
    target: LocalTarget, outputs: Outputs, pipeline: boto3.Session
) -> None:
    bucket = outputs["shared-services"]["ArtifactBucketName"]
    s3 = target.client("s3", pipeline)
    response = _refused(lambda: s3.put_object(Bucket=bucket, Key="mlops/plain", Body=b"x"))
    (put,) = _decisions(target, response)
    assert not put.allowed and put.lacking == ()
    assert {(s.kind, s.sid) for s in put.deciding} >= {
        (PolicyKind.RESOURCE, "DenyPutWithoutEncryptionHeader"),
        (PolicyKind.RESOURCE, "DenyPutNotEncryptedWithKms"),
    }
    assert all(s.effect == "Deny" for s in put.deciding)
    assert any(s.effect == "Allow" for s in put.matched)


def test_bare_head_403_is_found_by_its_request_id(
    target: LocalTarget, outputs: Outputs, pipeline: boto3.Session
) -> None:
    shared = outputs["shared-services"]
    trainer = target.session_as_service(
        outputs["training"]["SageMakerTrainingRoleArn"], "sagemaker.amazonaws.com"
    )
    s3 = target.client("s3", trainer)
    response = _refused(
        lambda: s3.head_object(Bucket=shared["ArtifactBucketName"], Key="mlops/request-id.txt")
    )
    assert response["Error"]["Code"] == "403"
    (head,) = _decisions(target, response)
    assert (head.action, head.allowed) == ("s3:GetObject", False)


def test_kms_deny_names_the_key_policy_as_lacking(target: LocalTarget, outputs: Outputs) -> None:
    kms = target.client("kms", target.session("training"))
    key = outputs["shared-services"]["ArtifactKeyArn"]
    response = _refused(lambda: kms.encrypt(KeyId=key, Plaintext=b"x"))
    assert response["Error"]["Code"] == "AccessDeniedException"
    (encrypt,) = _decisions(target, response)
    assert (encrypt.action, encrypt.allowed, encrypt.lacking) == (
        "kms:Encrypt",
        False,
        (PolicyKind.KEY,),
    )


def test_sts_assume_role_answer_carries_the_request_id(target: LocalTarget) -> None:
    account = target.accounts["training"]
    sts = target.client("sts", target.session("training"))
    response = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/harness-deployer", RoleSessionName="again"
    )
    (assume,) = _decisions(target, response)
    assert (assume.action, assume.allowed) == ("sts:AssumeRole", True)
    assert {s.kind for s in assume.deciding} == {PolicyKind.TRUST, PolicyKind.IDENTITY}
    identity = sts.get_caller_identity()
    assert target.decision_log.for_request(identity["ResponseMetadata"]["RequestId"]) == []


def test_iam_answered_by_moto_carries_the_request_id(target: LocalTarget) -> None:
    iam = target.client("iam", target.session("production"))
    response = iam.get_role(RoleName="harness-deployer")
    (get,) = _decisions(target, response)
    assert (get.action, get.allowed) == ("iam:GetRole", True)
    missing = _refused(lambda: iam.get_role(RoleName="no-such-role"))
    assert missing["Error"]["Code"] == "NoSuchEntity"
    assert [d.action for d in _decisions(target, missing)] == ["iam:GetRole"]


def test_cloudformation_engine_answer_carries_the_request_id(
    target: LocalTarget, outputs: Outputs
) -> None:
    cloudformation = target.client("cloudformation", target.session("training"))
    response = cloudformation.describe_stacks(StackName="mlops-training-roles")
    (describe,) = _decisions(target, response)
    assert (describe.action, describe.allowed) == ("cloudformation:DescribeStacks", True)
    missing = _refused(lambda: cloudformation.describe_stacks(StackName="no-such-stack"))
    assert missing["Error"]["Code"] == "ValidationError"
    assert _decisions(target, missing)[0].action == "cloudformation:DescribeStacks"


def test_a_request_refused_before_any_policy_is_logged_by_its_request_id(
    target: LocalTarget,
) -> None:
    credentials = target.session("shared-services").get_credentials()
    assert credentials is not None
    forged = new_session(
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key="wrong",
        aws_session_token=credentials.token,
    )
    response = _refused(target.client("kms", forged).list_keys)
    (refusal,) = target.decision_log.for_request(response["ResponseMetadata"]["RequestId"])
    assert (refusal["principal"], refusal["operation"]) == ("unauthenticated", "kms:ListKeys")
    assert refusal["matched"] == refusal["deciding"] == refusal["lacking"] == []


def test_a_service_that_raises_is_answered_as_aws_with_the_request_id(tmp_path: Path) -> None:
    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raise NotImplementedError("The list_keys action has not been implemented")

    store = CredentialStore()
    root = store.issue_long_term("arn:aws:iam::777777777777:root")
    gateway = Gateway(store, broken, {}, DecisionLog(tmp_path / "decisions.jsonl"))
    listener = Listener(gateway)
    try:
        kms = boto3.client(
            "kms",
            region_name="us-east-1",
            endpoint_url=listener.url,
            aws_access_key_id=root.access_key_id,
            aws_secret_access_key=root.secret_access_key,
            config=Config(retries={"total_max_attempts": 1}),
        )
        response = _refused(kms.list_keys)
    finally:
        listener.close()
    assert response["Error"]["Code"] == "InternalFailure"
    assert "has not been implemented" in response["Error"]["Message"]
    (allowed,) = gateway.log.for_request(response["ResponseMetadata"]["RequestId"])
    assert (allowed["action"], allowed["decision"]) == ("kms:ListKeys", "allow")
