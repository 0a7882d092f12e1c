"""The local target with the project's own infra deployed: settings read back through the
service APIs, and the gateway allows and denies exactly what AWS would."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.render import PIPELINE_DIR, Wiring, render_training_config
from harness.targets import Capability, StackFailed
from harness.targets.local import LocalTarget, moto_state
from harness.targets.local.target import EXTRA_ACCOUNTS, ServiceRoleDenied
from harness.targets.sessions import new_session, session_from
from tests.unit.targets.conftest import PREFIX

Outputs = dict[str, dict[str, str]]
PIPELINE = "codepipeline.amazonaws.com"


def _sids(policy: str) -> list[str]:
    return [s["Sid"] for s in json.loads(policy)["Statement"]]


def _denied(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response


OTHER_ACCOUNTS = {
    "shared-services": "444444444444",
    "training": "555555555555",
    "production": "666666666666",
}


def test_starts_and_stops_in_about_a_second(tmp_path) -> None:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    with LocalTarget(OTHER_ACCOUNTS, workdir=tmp_path) as target:
        identity = target.client("sts", target.session("training")).get_caller_identity()
    assert time.monotonic() - began < 2.0
    assert identity["Account"] == "555555555555"
    assert identity["Arn"] == "arn:aws:sts::555555555555:assumed-role/harness-deployer/harness"


def test_a_setting_adds_accounts_a_deployment_does_not_use(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A replayed counterexample may act as a principal of another account."""
    monkeypatch.setenv(EXTRA_ACCOUNTS, "444455556666")
    with LocalTarget(OTHER_ACCOUNTS, workdir=tmp_path) as target:
        session = target.session("444455556666")
        identity = target.client("sts", session).get_caller_identity()
        assert target.account_roles == ("shared-services", "training", "production")
    assert identity["Arn"] == "arn:aws:sts::444455556666:assumed-role/harness-deployer/harness"
    monkeypatch.setenv(EXTRA_ACCOUNTS, "4444,555555555555")
    with pytest.raises(ValueError, match=f"{EXTRA_ACCOUNTS} 4444: must be 12-digit account ids"):
        LocalTarget()


def test_each_start_is_empty_and_accounts_are_not_shared() -> None:
    with LocalTarget(OTHER_ACCOUNTS) as first:
        target_s3 = first.client("s3", first.session("production"))
        target_s3.create_bucket(Bucket="left-behind")
        with pytest.raises(RuntimeError, match="in use by another local target"):
            LocalTarget(OTHER_ACCOUNTS).start()
    with LocalTarget(OTHER_ACCOUNTS) as second:
        buckets = second.client("s3", second.session("production")).list_buckets()["Buckets"]
    assert buckets == []


def test_declares_enforcement_and_runtimes(target: LocalTarget) -> None:
    assert target.has(Capability.ENFORCES_KEY_POLICY)
    assert target.has(Capability.ENFORCES_TLS_CONDITION)
    assert target.has(Capability.RUNS_TRAINING)
    assert Capability.RUNS_TRAINING.description == "runs SageMaker training jobs"


def test_bucket_settings_read_back(target: LocalTarget, outputs: Outputs) -> None:
    s3 = target.client("s3", target.session("shared-services"))
    bucket = outputs["shared-services"]["ArtifactBucketName"]
    key_arn = outputs["shared-services"]["ArtifactKeyArn"]
    assert _sids(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == [
        "DenyInsecureTransport",
        "DenyPutWithoutEncryptionHeader",
        "DenyPutNotEncryptedWithKms",
        "DenyPutUnderAnyOtherKey",
        "DenyArtifactWritesByOthers",
        "DenyArtifactReadsByOthers",
        "DenyDataWritesByOthers",
        "DenyDataReadsByOthers",
        "DenyModelWritesByOthers",
        "DenyModelReadsByOthers",
        "DenyWritesOutsideTheKnownPrefixes",
        "ArtifactsByPipelineActionRoles",
        "TrainingDataReadByTrainingRole",
        "ModelWriteByTrainingRole",
        "ListTrainingDataByTrainingRole",
        "ArtifactReadByDeployFunction",
        "ModelReadByHostingRole",
    ]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key_arn,
    }
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )


def test_key_and_role_settings_read_back(target: LocalTarget, outputs: Outputs) -> None:
    key_arn = outputs["shared-services"]["ArtifactKeyArn"]
    kms = target.client("kms", target.session("shared-services"))
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    policy = kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    assert "KeyUseByPipelineRoles" in _sids(policy)
    iam = target.client("iam", target.session("training"))
    role = iam.get_role(RoleName="mlops-b-sagemaker-training")["Role"]
    trust = role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    document = iam.get_role_policy(RoleName="mlops-b-sagemaker-training", PolicyName="training-job")
    assert "ReadTrainingData" in [s["Sid"] for s in document["PolicyDocument"]["Statement"]]
    function = target.client("lambda", target.session("production")).get_function(
        FunctionName=outputs["production"]["DeployFunctionName"]
    )
    assert function["Configuration"]["Role"] == outputs["production"]["DeployFunctionRoleArn"]


@pytest.fixture(scope="module")
def pipeline_s3(target: LocalTarget, outputs: Outputs) -> BaseClient:
    """S3 as the pipeline role, which trusts only CodePipeline."""
    session = target.session_as_service(outputs["shared-services"]["PipelineRoleArn"], PIPELINE)
    return target.client("s3", session)


def test_pipeline_role_put_with_the_key_is_allowed(
    pipeline_s3: BaseClient, outputs: Outputs
) -> None:
    shared = outputs["shared-services"]
    pipeline_s3.put_object(
        Bucket=shared["ArtifactBucketName"],
        Key="mlops/source.zip",
        Body=b"artifact",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=shared["ArtifactKeyArn"],
    )
    body = pipeline_s3.get_object(Bucket=shared["ArtifactBucketName"], Key="mlops/source.zip")
    assert body["Body"].read() == b"artifact"


@pytest.mark.parametrize(
    ("encryption", "statement"),
    [
        ({}, "DenyPutWithoutEncryptionHeader"),
        ({"ServerSideEncryption": "AES256"}, "DenyPutNotEncryptedWithKms"),
        (
            {
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": "arn:aws:kms:us-east-1:111111111111:key/"
                "00000000-0000-0000-0000-000000000000",
            },
            "DenyPutUnderAnyOtherKey",
        ),
    ],
    ids=["no-header", "aes256", "other-key"],
)
def test_pipeline_role_put_without_the_key_is_denied(
    pipeline_s3: BaseClient, outputs: Outputs, encryption: dict[str, str], statement: str
) -> None:
    bucket = outputs["shared-services"]["ArtifactBucketName"]
    response = _denied(
        lambda: pipeline_s3.put_object(Bucket=bucket, Key="mlops/x", Body=b"x", **encryption)
    )
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    message = response["Error"]["Message"]
    assert "explicit Deny" in message and statement in message
    assert "s3:PutObject" in message and "assumed-role/mlops-pipeline/" in message


def test_pipeline_role_put_over_plain_http_is_denied(target: LocalTarget, outputs: Outputs) -> None:
    shared = outputs["shared-services"]
    session = target.session_as_service(shared["PipelineRoleArn"], PIPELINE)
    plain = target.insecure_client("s3", session)
    response = _denied(
        lambda: plain.put_object(
            Bucket=shared["ArtifactBucketName"],
            Key="mlops/x",
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=shared["ArtifactKeyArn"],
        )
    )
    assert "DenyInsecureTransport" in response["Error"]["Message"]


def test_pipeline_role_is_only_for_codepipeline(target: LocalTarget, outputs: Outputs) -> None:
    with pytest.raises(ServiceRoleDenied, match=r"lambda\.amazonaws\.com"):
        target.session_as_service(
            outputs["shared-services"]["PipelineRoleArn"], "lambda.amazonaws.com"
        )


def test_admin_like_role_in_training_is_denied_the_key(
    target: LocalTarget, outputs: Outputs
) -> None:
    shared = outputs["shared-services"]
    account = target.accounts["training"]
    iam = target.client("iam", target.session("training"))
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
    role_arn = iam.create_role(RoleName="canary-admin", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    everything = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:*", "s3:*"], "Resource": "*"}],
    }
    iam.put_role_policy(
        RoleName="canary-admin", PolicyName="all-kms-s3", PolicyDocument=json.dumps(everything)
    )
    canary = target.session("training", role_arn=role_arn, session_name="canary")
    kms = target.client("kms", canary)
    response = _denied(lambda: kms.encrypt(KeyId=shared["ArtifactKeyArn"], Plaintext=b"x"))
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert "key policy" in response["Error"]["Message"]
    s3 = target.client("s3", canary)
    response = _denied(
        lambda: s3.put_object(
            Bucket=shared["ArtifactBucketName"],
            Key="mlops/canary",
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=shared["ArtifactKeyArn"],
        )
    )
    assert response["Error"]["Code"] == "AccessDenied"


def test_training_role_reads_training_data(target: LocalTarget, outputs: Outputs) -> None:
    shared, training = outputs["shared-services"], outputs["training"]
    publisher = target.session(
        "shared-services", role_arn=shared["DataPublisherRoleArn"], session_name="publish"
    )
    target.client("s3", publisher).put_object(
        Bucket=shared["ArtifactBucketName"],
        Key="data/train.csv",
        Body=b"1,2,3\n",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=shared["ArtifactKeyArn"],
    )
    trainer = target.session_as_service(
        training["SageMakerTrainingRoleArn"], "sagemaker.amazonaws.com"
    )
    s3 = target.client("s3", trainer)
    got = s3.get_object(Bucket=shared["ArtifactBucketName"], Key="data/train.csv")
    assert got["Body"].read() == b"1,2,3\n"
    assert got["ServerSideEncryption"] == "aws:kms"
    decrypt = target.decision_log.entries()[-1]
    assert (decrypt["action"], decrypt["decision"]) == ("kms:Decrypt", "allow")
    assert decrypt["resource"] == shared["ArtifactKeyArn"]
    response = _denied(
        lambda: s3.get_object(Bucket=shared["ArtifactBucketName"], Key="mlops/source.zip")
    )
    assert response["Error"]["Code"] == "AccessDenied"


def _client_with(target: LocalTarget, service: str, key: str, secret: str, token: str | None):  # type: ignore[no-untyped-def]
    session = new_session(
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token
    )
    return target.client(service, session)


def test_bad_signature_and_unknown_key_are_refused(target: LocalTarget) -> None:
    credentials = target.session("shared-services").get_credentials()
    assert credentials is not None
    forged = _client_with(target, "s3", credentials.access_key, "wrong", credentials.token)
    assert _denied(forged.list_buckets)["Error"]["Code"] == "SignatureDoesNotMatch"
    unknown = _client_with(target, "sts", "AKIAUNKNOWNKEY000000", "secret", None)
    assert _denied(unknown.get_caller_identity)["Error"]["Code"] == "InvalidClientTokenId"
    unknown_s3 = _client_with(target, "s3", "AKIAUNKNOWNKEY000000", "secret", None)
    assert _denied(unknown_s3.list_buckets)["Error"]["Code"] == "InvalidAccessKeyId"
    refusal = target.decision_log.entries()[-1]
    assert (refusal["principal"], refusal["operation"]) == ("unauthenticated", "s3:ListBuckets")
    assert "unknown_access_key" in refusal["reason"]


def test_unsigned_requests_never_reach_moto(target: LocalTarget, outputs: Outputs) -> None:
    bucket = outputs["shared-services"]["ArtifactBucketName"]
    context = ssl.create_default_context(cafile=str(target.ca_bundle))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{target.endpoint_url}/{bucket}/data/train.csv", context=context)
    assert refused.value.code == 403
    assert b"<Code>AccessDenied</Code>" in refused.value.read()


def test_decision_log_has_one_line_per_decision(target: LocalTarget, outputs: Outputs) -> None:
    session = target.session("shared-services")
    bucket = outputs["shared-services"]["ArtifactBucketName"]
    before = len(target.decision_log.entries())
    target.client("s3", session).get_bucket_versioning(Bucket=bucket)
    plain = target.insecure_client("s3", session)
    _denied(lambda: plain.get_bucket_versioning(Bucket=bucket))
    entries = target.decision_log.entries()[before:]
    assert [(e["action"], e["decision"], e["transport"]) for e in entries] == [
        ("s3:GetBucketVersioning", "allow", "https"),
        ("s3:GetBucketVersioning", "deny", "http"),
    ]
    assert "DenyInsecureTransport" in entries[1]["reason"]
    text = target.decision_log.path.read_text()
    credentials = session.get_credentials()
    assert credentials is not None
    assert credentials.secret_key not in text and credentials.token not in text


def test_training_stack_deploys_as_its_cloudformation_role_and_is_destroyed(
    target: LocalTarget, outputs: Outputs
) -> None:
    wiring = Wiring.from_outputs({"Prefix": PREFIX, "Region": target.region}, outputs)
    parameters = render_training_config(wiring)["Parameters"]
    role_arn = outputs["training"]["CloudFormationRoleArn"]
    name = outputs["training"]["TrainingStackName"]
    body = (PIPELINE_DIR / "training-stack.yaml").read_text()
    stack = target.deploy_stack("training", name, body, parameters, role_arn=role_arn)
    stepfunctions = target.client("stepfunctions", target.session("training"))
    machine = stepfunctions.describe_state_machine(stateMachineArn=stack["StateMachineArn"])
    assert machine["roleArn"] == outputs["training"]["StateMachineRoleArn"]
    created = [
        e
        for e in target.decision_log.entries()
        if e["action"] == "states:CreateStateMachine" and e["decision"] == "allow"
    ]
    assert created[-1]["principal"].startswith(
        f"arn:aws:sts::{target.accounts['training']}:assumed-role/mlops-b-cloudformation/"
    )
    target.destroy_stack("training", name, role_arn=role_arn)
    machines = stepfunctions.list_state_machines()["stateMachines"]
    assert stack["StateMachineArn"] not in [m["stateMachineArn"] for m in machines]


def test_a_permission_the_stack_role_lacks_fails_the_stack(
    target: LocalTarget, outputs: Outputs
) -> None:
    body = json.dumps(
        {
            "Resources": {
                "Extra": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "extra-b"}}
            }
        }
    )
    refused = r"Extra: .*not authorized to perform: s3:CreateBucket.*AccessDenied"
    with pytest.raises(StackFailed, match=refused):
        target.deploy_stack(
            "training",
            "not-allowed",
            body,
            {},
            role_arn=outputs["training"]["CloudFormationRoleArn"],
        )


def test_presigned_get_is_verified_and_authorized(target: LocalTarget, outputs: Outputs) -> None:
    shared = outputs["shared-services"]
    session = target.session_as_service(shared["PipelineRoleArn"], PIPELINE)
    s3 = target.client("s3", session)
    s3.put_object(
        Bucket=shared["ArtifactBucketName"],
        Key="mlops/presigned.txt",
        Body=b"hello",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=shared["ArtifactKeyArn"],
    )
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": shared["ArtifactBucketName"], "Key": "mlops/presigned.txt"}
    )
    context = ssl.create_default_context(cafile=str(target.ca_bundle))
    with urllib.request.urlopen(url, context=context) as response:
        assert response.read() == b"hello"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(
            url.replace("X-Amz-Expires=3600", "X-Amz-Expires=60"), context=context
        )
    assert refused.value.code == 403
    assert b"SignatureDoesNotMatch" in refused.value.read()


def test_pipeline_crosses_into_training_and_uses_the_key_there(
    target: LocalTarget, outputs: Outputs
) -> None:
    """A's pipeline role assumes B's action role (trust names it), which may use A's key."""
    shared = outputs["shared-services"]
    pipeline = target.session_as_service(shared["PipelineRoleArn"], PIPELINE)
    granted = target.client("sts", pipeline).assume_role(
        RoleArn=outputs["training"]["PipelineActionRoleArn"], RoleSessionName="deploy-training"
    )["Credentials"]
    action = session_from(granted, None)
    kms = target.client("kms", action)
    blob = kms.encrypt(KeyId=shared["ArtifactKeyArn"], Plaintext=b"model")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"model"
    assert target.decision_log.entries()[-1]["resource"] == shared["ArtifactKeyArn"]
    deployer = target.client("sts", target.session("shared-services"))
    response = _denied(
        lambda: deployer.assume_role(
            RoleArn=outputs["training"]["PipelineActionRoleArn"], RoleSessionName="intruder"
        )
    )
    assert response["Error"]["Code"] == "AccessDenied"


def test_root_acts_in_its_own_account_but_cannot_assume_roles(
    target: LocalTarget, outputs: Outputs
) -> None:
    root = target.root_session("production")
    identity = target.client("sts", root).get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::333333333333:root"
    assert target.client("iam", root).get_role(RoleName="mlops-c-pipeline-action")
    response = _denied(
        lambda: target.client("sts", root).assume_role(
            RoleArn=outputs["production"]["DeployFunctionRoleArn"], RoleSessionName="root"
        )
    )
    assert response["Error"]["Code"] == "AccessDenied"


def test_subprocess_env_reaches_the_gateway(target: LocalTarget, outputs: Outputs) -> None:
    session = target.session_as_service(
        outputs["training"]["SageMakerTrainingRoleArn"], "sagemaker.amazonaws.com"
    )
    frozen = session.get_credentials().get_frozen_credentials()
    env = target.subprocess_env(
        {
            "AccessKeyId": frozen.access_key,
            "SecretAccessKey": frozen.secret_key,
            "SessionToken": frozen.token,
        }
    )
    script = "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == (
        "arn:aws:sts::222222222222:assumed-role/mlops-b-sagemaker-training/sagemaker"
    )


def test_listing_is_limited_by_the_prefix_condition(target: LocalTarget, outputs: Outputs) -> None:
    trainer = target.session_as_service(
        outputs["training"]["SageMakerTrainingRoleArn"], "sagemaker.amazonaws.com"
    )
    s3 = target.client("s3", trainer)
    bucket = outputs["shared-services"]["ArtifactBucketName"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="data/")["KeyCount"] >= 0
    response = _denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix="mlops/"))
    assert "s3:ListBucket" in response["Error"]["Message"]


def test_default_encryption_under_the_aws_managed_key(target: LocalTarget) -> None:
    """A bucket whose default is SSE-KMS without a key uses aws/s3, which the account's
    principals may use through S3."""
    s3 = target.client("s3", target.session("production"))
    s3.create_bucket(Bucket="managed-key-default")
    s3.put_bucket_encryption(
        Bucket="managed-key-default",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_object(Bucket="managed-key-default", Key="k", Body=b"x")
    implied = target.decision_log.entries()[-1]
    assert implied["action"] == "kms:GenerateDataKey"
    assert implied["resource"] == "arn:aws:kms:us-east-1:333333333333:alias/aws/s3"
    assert implied["decision"] == "allow"


def test_a_client_is_made_once_per_session_and_service(target: LocalTarget) -> None:
    session = target.session("training")
    iam = target.client("iam", session)
    assert target.client("iam", session) is iam
    assert target.client("iam", target.session("production")) is not iam
    assert target.new_client("iam", session) is not iam, "new_client makes one of its own"


def test_a_role_deleted_or_made_again_under_its_name_is_read_anew(target: LocalTarget) -> None:
    """The gateway remembers where moto keeps a role; a role replaced under the same name is
    decided by the new role's policies, a deleted one by none."""
    iam = target.client("iam", target.session("training"))
    arn = f"arn:aws:iam::{target.accounts['training']}:role/replaced-role"
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})

    def make(policy_name: str) -> None:
        iam.create_role(RoleName="replaced-role", AssumeRolePolicyDocument=trust)
        iam.put_role_policy(
            RoleName="replaced-role",
            PolicyName=policy_name,
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        )

    def remove(policy_name: str) -> None:
        iam.delete_role_policy(RoleName="replaced-role", PolicyName=policy_name)
        iam.delete_role(RoleName="replaced-role")

    make("first")
    first = moto_state.role_policies(arn)
    assert first is not None and [name for name, _ in first.identity] == ["first"]
    remove("first")
    assert moto_state.role_policies(arn) is None
    make("second")
    second = moto_state.role_policies(arn)
    assert second is not None and [name for name, _ in second.identity] == ["second"]
    assert second.role_id != first.role_id
    remove("second")


def test_moto_lists_a_response_class_s_methods_once_while_a_target_is_open(
    target: LocalTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto tests an action against its response class's methods; while a target is open
    they are listed once per class, the same names moto's own listing gives."""
    from moto.core import responses, utils
    from moto.iam.responses import IamResponse
    from moto.s3.responses import S3Response

    listed = responses.method_names_from_class
    assert listed is not utils.method_names_from_class
    for clazz in (IamResponse, S3Response):
        assert listed(clazz) == frozenset(utils.method_names_from_class(clazz))
    listings: list[object] = []
    getmembers = utils.inspect.getmembers
    monkeypatch.setattr(
        utils.inspect, "getmembers", lambda *a, **k: listings.append(a) or getmembers(*a, **k)
    )
    iam = target.client("iam", target.session("training"))
    assert iam.list_roles()["Roles"]
    assert iam.list_roles()["Roles"]
    assert listings == []
