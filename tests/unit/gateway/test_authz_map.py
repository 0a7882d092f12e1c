"""Real boto3 calls -> the IAM authorization requests AWS would evaluate for them."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pytest
from botocore.exceptions import ClientError

from harness.gateway.authz_map import (
    _PLACEHOLDER,
    _RESOLVERS,
    AuthorizationMapper,
    AuthzCall,
    RequestFacts,
    UnmappedOperationError,
    load_table,
)
from harness.gateway.operations import OperationMapper

from .conftest import ACCOUNT_A, ACCOUNT_B, REGION, LoopbackGateway

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_A}:key/{KEY_ID}"
ALIAS_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_A}:alias/artifacts"
OTHER_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_A}:key/other"
AWS_S3_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_B}:key/aws-s3-managed"
CALLER_ROLE = f"arn:aws:iam::{ACCOUNT_B}:role/service-role/TrainingRole"
PASSED_ROLE = f"arn:aws:iam::{ACCOUNT_B}:role/SageMakerExecution"
VIA_S3 = f"s3.{REGION}.amazonaws.com"


@dataclass
class FakeState:
    """Resource state as the local target would answer it from moto."""

    keys: dict[str, str] = field(
        default_factory=lambda: {
            "alias/artifacts": KEY_ARN,
            ALIAS_ARN: KEY_ARN,
            KEY_ARN: KEY_ARN,
            "alias/aws/s3": AWS_S3_KEY_ARN,
        }
    )
    bucket_defaults: dict[str, str] = field(default_factory=lambda: {"art": KEY_ARN})
    objects: dict[tuple[str, str], str] = field(
        default_factory=lambda: {("art", "model.tar.gz"): KEY_ARN, ("src", "in.csv"): OTHER_KEY_ARN}
    )
    uploads: dict[str, str] = field(default_factory=lambda: {"up-1": KEY_ARN})
    ciphertexts: dict[bytes, str] = field(default_factory=lambda: {b"blob-of-artifacts": KEY_ARN})
    roles: dict[str, str] = field(default_factory=lambda: {"TrainingRole": CALLER_ROLE})
    tags: dict[tuple[str, str], dict[str, str]] = field(
        default_factory=lambda: {("art", "model.tar.gz"): {"stage": "prod"}}
    )

    def kms_key_arn(self, key_ref: str, *, account_id: str, region: str) -> str | None:
        return self.keys.get(key_ref)

    def bucket_default_kms_key(self, bucket: str) -> str | None:
        return self.bucket_defaults.get(bucket)

    def object_kms_key(self, bucket: str, key: str, version_id: str | None) -> str | None:
        return self.objects.get((bucket, key))

    def multipart_upload_kms_key(self, bucket: str, key: str, upload_id: str) -> str | None:
        return self.uploads.get(upload_id)

    def ciphertext_kms_key(self, ciphertext: bytes) -> str | None:
        return self.ciphertexts.get(ciphertext)

    def role_arn(self, account_id: str, role_name: str) -> str | None:
        return self.roles.get(role_name)

    def object_tags(self, bucket: str, key: str, version_id: str | None) -> dict[str, str] | None:
        return self.tags.get((bucket, key))


@pytest.fixture
def authz(make_client, gateway: LoopbackGateway):
    """``authz(service, call, secure=True) -> [AuthzCall]`` through a real client."""

    def run(service: str, call, *, secure: bool = True, **client_config) -> list[AuthzCall]:
        client = make_client(service, secure=secure, **client_config)
        with pytest.raises(ClientError):
            call(client)
        seen = gateway.last()
        assert seen.verified is not None and seen.call is not None, seen.error
        facts = RequestFacts(
            secure_transport=seen.environ["wsgi.url_scheme"] == "https",
            source_ip=seen.environ["REMOTE_ADDR"],
            auth_type=seen.verified.signature.auth_type,
        )
        return AuthorizationMapper(FakeState()).calls(seen.call, seen.verified.credential, facts)

    return run


def _pairs(calls: list[AuthzCall]) -> list[tuple[str, str, str | None]]:
    return [(c.action, c.resource, c.on_behalf_of) for c in calls]


# --- S3 -------------------------------------------------------------------------------------


def test_put_object_naming_the_key_needs_generate_data_key_via_s3(authz):
    calls = authz(
        "s3",
        lambda c: c.put_object(
            Bucket="art",
            Key="model.tar.gz",
            Body=b"m",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=KEY_ARN,
        ),
    )
    assert _pairs(calls) == [
        ("s3:PutObject", "arn:aws:s3:::art/model.tar.gz", None),
        ("kms:GenerateDataKey", KEY_ARN, "s3.amazonaws.com"),
    ]
    put, kms = calls
    assert put.context["s3:x-amz-server-side-encryption"] == "aws:kms"
    assert put.context["s3:x-amz-server-side-encryption-aws-kms-key-id"] == KEY_ARN
    assert put.context["aws:SecureTransport"] == "true"
    assert put.context["aws:PrincipalArn"] == CALLER_ROLE
    assert put.context["aws:PrincipalAccount"] == ACCOUNT_B
    assert put.context["aws:PrincipalType"] == "AssumedRole"
    assert put.context["aws:SourceIp"] == "127.0.0.1"
    assert put.context["s3:authType"] == "REST-HEADER"
    assert kms.context["kms:ViaService"] == VIA_S3
    assert kms.context["kms:CallerAccount"] == ACCOUNT_B
    assert kms.context["aws:ViaAWSService"] == "true"
    assert kms.context["kms:EncryptionContext:aws:s3:arn"] == "arn:aws:s3:::art/model.tar.gz"
    assert "aws:SourceIp" not in kms.context


def test_put_object_condition_keys_come_from_the_headers_not_the_bucket_default(authz):
    calls = authz("s3", lambda c: c.put_object(Bucket="art", Key="k", Body=b"x"), secure=False)
    put, kms = calls
    assert "s3:x-amz-server-side-encryption" not in put.context
    assert "s3:x-amz-server-side-encryption-aws-kms-key-id" not in put.context
    assert put.context["aws:SecureTransport"] == "false"
    # ... but the bucket's default SSE-KMS key still makes S3 call KMS.
    assert (kms.action, kms.resource) == ("kms:GenerateDataKey", KEY_ARN)


def test_put_object_by_alias_header_resolves_the_key_but_keeps_the_header_value(authz):
    put, kms = authz(
        "s3",
        lambda c: c.put_object(
            Bucket="art",
            Key="k",
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId="alias/artifacts",
        ),
    )
    assert put.context["s3:x-amz-server-side-encryption-aws-kms-key-id"] == "alias/artifacts"
    assert kms.resource == KEY_ARN


def test_put_object_aws_kms_without_key_uses_the_s3_managed_key(authz):
    _, kms = authz(
        "s3",
        lambda c: c.put_object(
            Bucket="nodefault", Key="k", Body=b"x", ServerSideEncryption="aws:kms"
        ),
    )
    assert kms.resource == AWS_S3_KEY_ARN


@pytest.mark.parametrize(
    ("bucket", "extra"),
    [("art", {"ServerSideEncryption": "AES256"}), ("nodefault", {})],
    ids=["aes256-header", "no-header-no-default"],
)
def test_put_object_without_kms_makes_no_kms_call(authz, bucket, extra):
    calls = authz("s3", lambda c: c.put_object(Bucket=bucket, Key="k", Body=b"x", **extra))
    assert _pairs(calls) == [("s3:PutObject", f"arn:aws:s3:::{bucket}/k", None)]
    assert calls[0].context.get("s3:x-amz-server-side-encryption") == extra.get(
        "ServerSideEncryption"
    )


@pytest.mark.parametrize(
    ("call", "action"),
    [
        (lambda c: c.get_object(Bucket="art", Key="model.tar.gz"), "s3:GetObject"),
        (lambda c: c.head_object(Bucket="art", Key="model.tar.gz"), "s3:GetObject"),
        (
            lambda c: c.get_object(Bucket="art", Key="model.tar.gz", VersionId="v2"),
            "s3:GetObjectVersion",
        ),
    ],
)
def test_reading_an_sse_kms_object_needs_decrypt(authz, call, action):
    calls = authz("s3", call)
    assert _pairs(calls) == [
        (action, "arn:aws:s3:::art/model.tar.gz", None),
        ("kms:Decrypt", KEY_ARN, "s3.amazonaws.com"),
    ]


def test_reading_an_unencrypted_object_needs_no_kms(authz):
    calls = authz("s3", lambda c: c.get_object(Bucket="art", Key="plain.txt"))
    assert _pairs(calls) == [("s3:GetObject", "arn:aws:s3:::art/plain.txt", None)]


# S3 user guide, "Tagging and access control policies"
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html).
def test_object_tag_condition_keys(authz):
    read = authz("s3", lambda c: c.get_object_tagging(Bucket="art", Key="model.tar.gz"))
    assert read[0].context["s3:ExistingObjectTag/stage"] == "prod"
    # PUT Object does not get the existing tags; it gets the tags it sets
    put = authz(
        "s3",
        lambda c: c.put_object(Bucket="art", Key="model.tar.gz", Body=b"", Tagging="a=1&b="),
    )
    assert "s3:ExistingObjectTag/stage" not in put[0].context
    assert (put[0].context["s3:RequestObjectTag/a"], put[0].context["s3:RequestObjectTag/b"]) == (
        "1",
        "",
    )
    assert put[0].context["s3:RequestObjectTagKeys"] == ["a", "b"]
    tag_set = {"TagSet": [{"Key": "team", "Value": "ml"}]}
    tagging = authz(
        "s3", lambda c: c.put_object_tagging(Bucket="art", Key="model.tar.gz", Tagging=tag_set)
    )[0].context
    assert tagging["s3:RequestObjectTag/team"] == "ml"
    assert tagging["s3:RequestObjectTagKeys"] == ["team"]
    assert tagging["s3:ExistingObjectTag/stage"] == "prod"
    # a bucket's tags are not an object's
    bucket_tagging = authz("s3", lambda c: c.put_bucket_tagging(Bucket="art", Tagging=tag_set))[
        0
    ].context
    assert not any(key.startswith("s3:RequestObjectTag") for key in bucket_tagging)


def test_copy_object_reads_the_source_and_writes_the_target(authz):
    calls = authz(
        "s3",
        lambda c: c.copy_object(
            Bucket="art",
            Key="copy.csv",
            CopySource={"Bucket": "src", "Key": "in.csv"},
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=KEY_ARN,
        ),
    )
    assert _pairs(calls) == [
        ("s3:PutObject", "arn:aws:s3:::art/copy.csv", None),
        ("s3:GetObject", "arn:aws:s3:::src/in.csv", None),
        ("kms:GenerateDataKey", KEY_ARN, "s3.amazonaws.com"),
        ("kms:Decrypt", OTHER_KEY_ARN, "s3.amazonaws.com"),
    ]
    assert calls[0].context["s3:x-amz-copy-source"] == "src/in.csv"
    assert calls[3].context["kms:EncryptionContext:aws:s3:arn"] == "arn:aws:s3:::src/in.csv"


def test_multipart_upload_steps(authz):
    create = authz(
        "s3",
        lambda c: c.create_multipart_upload(
            Bucket="art", Key="big", ServerSideEncryption="aws:kms", SSEKMSKeyId=KEY_ARN
        ),
    )
    part = authz(
        "s3",
        lambda c: c.upload_part(Bucket="art", Key="big", UploadId="up-1", PartNumber=1, Body=b"p"),
    )
    complete = authz(
        "s3",
        lambda c: c.complete_multipart_upload(
            Bucket="art",
            Key="big",
            UploadId="up-1",
            MultipartUpload={"Parts": [{"ETag": "e", "PartNumber": 1}]},
        ),
    )
    listed = authz("s3", lambda c: c.list_parts(Bucket="art", Key="big", UploadId="up-1"))
    aborted = authz(
        "s3", lambda c: c.abort_multipart_upload(Bucket="art", Key="big", UploadId="up-1")
    )
    obj = "arn:aws:s3:::art/big"
    assert _pairs(create) == [
        ("s3:PutObject", obj, None),
        ("kms:GenerateDataKey", KEY_ARN, "s3.amazonaws.com"),
    ]
    assert _pairs(part) == [
        ("s3:PutObject", obj, None),
        ("kms:GenerateDataKey", KEY_ARN, "s3.amazonaws.com"),
    ]
    assert _pairs(complete) == [
        ("s3:PutObject", obj, None),
        ("kms:Decrypt", KEY_ARN, "s3.amazonaws.com"),
    ]
    assert _pairs(listed) == [("s3:ListMultipartUploadParts", obj, None)]
    assert _pairs(aborted) == [("s3:AbortMultipartUpload", obj, None)]


@pytest.mark.parametrize(
    ("call", "action", "resource"),
    [
        (
            lambda c: c.put_bucket_policy(Bucket="art", Policy="{}"),
            "s3:PutBucketPolicy",
            "arn:aws:s3:::art",
        ),
        (lambda c: c.get_bucket_policy(Bucket="art"), "s3:GetBucketPolicy", "arn:aws:s3:::art"),
        (
            lambda c: c.put_bucket_encryption(
                Bucket="art",
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
                },
            ),
            "s3:PutEncryptionConfiguration",
            "arn:aws:s3:::art",
        ),
        (
            lambda c: c.list_objects_v2(Bucket="art", Prefix="in/"),
            "s3:ListBucket",
            "arn:aws:s3:::art",
        ),
        (lambda c: c.head_bucket(Bucket="art"), "s3:ListBucket", "arn:aws:s3:::art"),
        (lambda c: c.list_buckets(), "s3:ListAllMyBuckets", "*"),
        (
            lambda c: c.delete_object(Bucket="art", Key="k", VersionId="v"),
            "s3:DeleteObjectVersion",
            "arn:aws:s3:::art/k",
        ),
    ],
)
def test_s3_bucket_and_object_actions(authz, call, action, resource):
    assert _pairs(authz("s3", call)) == [(action, resource, None)]


def test_list_bucket_carries_the_prefix_condition_key(authz):
    (call,) = authz("s3", lambda c: c.list_objects_v2(Bucket="art", Prefix="in/", MaxKeys=3))
    assert call.context["s3:prefix"] == "in/"
    assert call.context["s3:max-keys"] == "3"


def test_presigned_get_is_a_query_string_request(authz, gateway, tls_material):
    def fetch(client):
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": "art", "Key": "plain.txt"}
        )
        context = ssl.create_default_context(cafile=str(tls_material.ca_bundle))
        try:
            urllib.request.urlopen(url, context=context, timeout=5)
        except urllib.error.HTTPError as exc:
            raise ClientError({"Error": {"Code": str(exc.code)}}, "GetObject") from exc

    (call,) = authz("s3", fetch, signature_version="s3v4")
    assert call.context["s3:authType"] == "REST-QUERY-STRING"


# --- KMS ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_id", "alias"),
    [
        ("alias/artifacts", "alias/artifacts"),
        (ALIAS_ARN, "alias/artifacts"),
        (KEY_ARN, None),
    ],
    ids=["alias-name", "alias-arn", "key-arn"],
)
@pytest.mark.parametrize(
    ("operation", "call"),
    [
        (
            "Encrypt",
            lambda c, k: c.encrypt(KeyId=k, Plaintext=b"x", EncryptionContext={"stage": "train"}),
        ),
        ("GenerateDataKey", lambda c, k: c.generate_data_key(KeyId=k, KeySpec="AES_256")),
        ("DescribeKey", lambda c, k: c.describe_key(KeyId=k)),
        ("Decrypt", lambda c, k: c.decrypt(KeyId=k, CiphertextBlob=b"x")),
    ],
)
def test_kms_calls_resolve_every_key_form_to_the_key_arn(authz, operation, call, key_id, alias):
    (authz_call,) = authz("kms", lambda c: call(c, key_id))
    assert (authz_call.action, authz_call.resource) == (f"kms:{operation}", KEY_ARN)
    assert authz_call.context.get("kms:RequestAlias") == alias
    assert authz_call.context["kms:CallerAccount"] == ACCOUNT_B
    assert "kms:ViaService" not in authz_call.context
    if operation == "Encrypt":
        assert authz_call.context["kms:EncryptionContext:stage"] == "train"
        assert authz_call.context["kms:EncryptionContextKeys"] == ["stage"]


def test_decrypt_without_key_id_finds_the_key_from_the_ciphertext(authz):
    (call,) = authz("kms", lambda c: c.decrypt(CiphertextBlob=b"blob-of-artifacts"))
    assert (call.action, call.resource) == ("kms:Decrypt", KEY_ARN)


def test_unresolvable_alias_falls_back_to_the_alias_arn_in_the_callers_account(authz):
    (call,) = authz("kms", lambda c: c.describe_key(KeyId="alias/unknown"))
    assert call.resource == f"arn:aws:kms:{REGION}:{ACCOUNT_B}:alias/unknown"


def test_create_grant_context(authz):
    (call,) = authz(
        "kms",
        lambda c: c.create_grant(
            KeyId=KEY_ARN, GranteePrincipal=PASSED_ROLE, Operations=["Decrypt", "GenerateDataKey"]
        ),
    )
    assert (call.action, call.resource) == ("kms:CreateGrant", KEY_ARN)
    assert call.context["kms:GranteePrincipal"] == PASSED_ROLE
    assert call.context["kms:GrantOperations"] == ["Decrypt", "GenerateDataKey"]
    assert call.context["kms:GrantIsForAWSResource"] == "false"
    assert "kms:ViaService" not in call.context and "aws:CalledVia" not in call.context


def test_a_service_calling_with_the_callers_credentials(authz, store, role_session):
    via = store.issue_forward_access(role_session, "sagemaker.amazonaws.com")
    (call,) = authz(
        "kms",
        lambda c: c.create_grant(
            KeyId=KEY_ARN, GranteePrincipal=PASSED_ROLE, Operations=["Decrypt"]
        ),
        credential=via,
    )
    assert call.context["aws:PrincipalArn"] == CALLER_ROLE
    assert call.context["kms:GrantIsForAWSResource"] == "true"
    assert call.context["kms:ViaService"] == f"sagemaker.{REGION}.amazonaws.com"
    assert call.context["aws:ViaAWSService"] == "true"
    assert call.context["aws:CalledVia"] == ["sagemaker.amazonaws.com"]
    assert call.context["aws:CalledViaFirst"] == call.context["aws:CalledViaLast"]


# --- STS, IAM -------------------------------------------------------------------------------


def test_assume_role(authz):
    target = f"arn:aws:iam::{ACCOUNT_A}:role/PipelineRole"
    (call,) = authz("sts", lambda c: c.assume_role(RoleArn=target, RoleSessionName="deploy"))
    assert (call.action, call.resource) == ("sts:AssumeRole", target)
    assert call.context["sts:RoleSessionName"] == "deploy"


def test_get_caller_identity_needs_no_permission(authz):
    assert authz("sts", lambda c: c.get_caller_identity()) == []


def test_iam_role_arns_include_the_path(authz):
    (create,) = authz(
        "iam",
        lambda c: c.create_role(
            RoleName="New", Path="/service-role/", AssumeRolePolicyDocument="{}"
        ),
    )
    (put,) = authz(
        "iam",
        lambda c: c.put_role_policy(RoleName="TrainingRole", PolicyName="p", PolicyDocument="{}"),
    )
    assert (create.action, create.resource) == (
        "iam:CreateRole",
        f"arn:aws:iam::{ACCOUNT_B}:role/service-role/New",
    )
    assert (put.action, put.resource) == ("iam:PutRolePolicy", CALLER_ROLE)


def test_simulating_is_checked_on_the_simulated_entity_and_groups_on_the_group(authz):
    group = f"arn:aws:iam::{ACCOUNT_B}:group/readers"
    cases = {
        "iam:SimulatePrincipalPolicy": lambda c: c.simulate_principal_policy(
            PolicySourceArn=CALLER_ROLE, ActionNames=["s3:GetObject"]
        ),
        "iam:SimulateCustomPolicy": lambda c: c.simulate_custom_policy(
            PolicyInputList=["{}"], ActionNames=["s3:GetObject"]
        ),
        "iam:AddUserToGroup": lambda c: c.add_user_to_group(GroupName="readers", UserName="bob"),
        "iam:PutGroupPolicy": lambda c: c.put_group_policy(
            GroupName="readers", PolicyName="p", PolicyDocument="{}"
        ),
    }
    seen = {action: _pairs(authz("iam", call)) for action, call in cases.items()}
    assert seen == {
        "iam:SimulatePrincipalPolicy": [("iam:SimulatePrincipalPolicy", CALLER_ROLE, None)],
        "iam:SimulateCustomPolicy": [("iam:SimulateCustomPolicy", "*", None)],
        "iam:AddUserToGroup": [("iam:AddUserToGroup", group, None)],
        "iam:PutGroupPolicy": [("iam:PutGroupPolicy", group, None)],
    }


# --- services that are handed a role ---------------------------------------------------------


def _pass_role(calls: list[AuthzCall]) -> AuthzCall:
    (passed,) = [c for c in calls if c.action == "iam:PassRole"]
    return passed


def test_create_state_machine_passes_its_role_to_states(authz):
    calls = authz(
        "stepfunctions",
        lambda c: c.create_state_machine(name="train", definition="{}", roleArn=PASSED_ROLE),
    )
    assert _pairs(calls) == [
        (
            "states:CreateStateMachine",
            f"arn:aws:states:{REGION}:{ACCOUNT_B}:stateMachine:train",
            None,
        ),
        ("iam:PassRole", PASSED_ROLE, None),
    ]
    assert _pass_role(calls).context["iam:PassedToService"] == "states.amazonaws.com"


def test_start_execution_targets_the_state_machine(authz):
    machine = f"arn:aws:states:{REGION}:{ACCOUNT_B}:stateMachine:train"
    calls = authz("stepfunctions", lambda c: c.start_execution(stateMachineArn=machine))
    assert _pairs(calls) == [("states:StartExecution", machine, None)]


def test_sagemaker_training_job_and_model_pass_roles(authz):
    training = authz(
        "sagemaker",
        lambda c: c.create_training_job(
            TrainingJobName="Train-XGB-1",
            AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
            RoleArn=PASSED_ROLE,
            OutputDataConfig={"S3OutputPath": "s3://art/out", "KmsKeyId": KEY_ARN},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        ),
    )
    model = authz(
        "sagemaker",
        lambda c: c.create_model(
            ModelName="xgb", ExecutionRoleArn=PASSED_ROLE, PrimaryContainer={"Image": "img"}
        ),
    )
    prefix = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_B}"
    assert _pairs(training) == [
        ("sagemaker:CreateTrainingJob", f"{prefix}:training-job/train-xgb-1", None),
        ("iam:PassRole", PASSED_ROLE, None),
    ]
    assert _pairs(model) == [
        ("sagemaker:CreateModel", f"{prefix}:model/xgb", None),
        ("iam:PassRole", PASSED_ROLE, None),
    ]
    for calls in (training, model):
        assert _pass_role(calls).context["iam:PassedToService"] == "sagemaker.amazonaws.com"


def test_create_endpoint_is_checked_on_endpoint_and_config(authz):
    calls = authz(
        "sagemaker", lambda c: c.create_endpoint(EndpointName="prod", EndpointConfigName="cfg")
    )
    prefix = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_B}"
    assert _pairs(calls) == [
        ("sagemaker:CreateEndpoint", f"{prefix}:endpoint/prod", None),
        ("sagemaker:CreateEndpoint", f"{prefix}:endpoint-config/cfg", None),
    ]


def test_invoke_endpoint_is_sagemaker_runtime_under_the_sagemaker_prefix(authz):
    calls = authz("sagemaker-runtime", lambda c: c.invoke_endpoint(EndpointName="prod", Body=b"1"))
    assert _pairs(calls) == [
        ("sagemaker:InvokeEndpoint", f"arn:aws:sagemaker:{REGION}:{ACCOUNT_B}:endpoint/prod", None)
    ]


def test_lambda_create_function_and_invoke(authz):
    created = authz(
        "lambda",
        lambda c: c.create_function(
            FunctionName="deploy",
            Role=PASSED_ROLE,
            Runtime="python3.12",
            Handler="h.h",
            Code={"ZipFile": b"z"},
        ),
    )
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT_B}:function:deploy"
    assert _pairs(created) == [
        ("lambda:CreateFunction", function, None),
        ("iam:PassRole", PASSED_ROLE, None),
    ]
    assert _pass_role(created).context["iam:PassedToService"] == "lambda.amazonaws.com"
    assert _pairs(authz("lambda", lambda c: c.invoke(FunctionName="deploy"))) == [
        ("lambda:InvokeFunction", function, None)
    ]
    assert _pairs(authz("lambda", lambda c: c.invoke(FunctionName="deploy", Qualifier="live"))) == [
        ("lambda:InvokeFunction", f"{function}:live", None)
    ]
    foreign = f"arn:aws:lambda:{REGION}:{ACCOUNT_A}:function:other"
    assert _pairs(authz("lambda", lambda c: c.invoke(FunctionName=foreign))) == [
        ("lambda:InvokeFunction", foreign, None)
    ]


def test_event_rules_are_authorized_on_the_rule(authz):
    rule = f"arn:aws:events:{REGION}:{ACCOUNT_B}:rule/on-push"
    assert _pairs(authz("events", lambda c: c.put_rule(Name="on-push", EventPattern="{}"))) == [
        ("events:PutRule", rule, None)
    ]
    targets = [{"Id": "1", "Arn": "arn:x"}]
    assert _pairs(authz("events", lambda c: c.put_targets(Rule="on-push", Targets=targets))) == [
        ("events:PutTargets", rule, None)
    ]
    on_bus = f"arn:aws:events:{REGION}:{ACCOUNT_B}:rule/ops/on-push"
    assert _pairs(authz("events", lambda c: c.delete_rule(Name="on-push", EventBusName="ops"))) == [
        ("events:DeleteRule", on_bus, None)
    ]


def test_tagging_is_the_tag_prefix_on_star(authz):
    assert _pairs(authz("resourcegroupstaggingapi", lambda c: c.get_resources())) == [
        ("tag:GetResources", "*", None)
    ]


def test_an_operation_without_a_resource_is_not_mapped(authz):
    with pytest.raises(UnmappedOperationError, match=r"^events:CreateEventBus is not mapped to"):
        authz("events", lambda c: c.create_event_bus(Name="ops"))


def test_codepipeline_job_results_and_pipeline_role(authz):
    assert _pairs(authz("codepipeline", lambda c: c.put_job_success_result(jobId="j"))) == [
        ("codepipeline:PutJobSuccessResult", "*", None)
    ]
    pipeline_role = f"arn:aws:iam::{ACCOUNT_A}:role/PipelineRole"
    calls = authz(
        "codepipeline",
        lambda c: c.create_pipeline(
            pipeline={
                "name": "ml",
                "roleArn": pipeline_role,
                "artifactStore": {"type": "S3", "location": "art"},
                "stages": [],
            }
        ),
    )
    assert _pairs(calls) == [
        ("codepipeline:CreatePipeline", f"arn:aws:codepipeline:{REGION}:{ACCOUNT_B}:ml", None),
        ("iam:PassRole", pipeline_role, None),
    ]


def test_create_stack_with_a_service_role(authz):
    cfn_role = f"arn:aws:iam::{ACCOUNT_B}:role/CloudFormationRole"
    calls = authz(
        "cloudformation",
        lambda c: c.create_stack(StackName="training", TemplateBody="{}", RoleARN=cfn_role),
    )
    assert _pairs(calls) == [
        (
            "cloudformation:CreateStack",
            f"arn:aws:cloudformation:{REGION}:{ACCOUNT_B}:stack/training/*",
            None,
        ),
        ("iam:PassRole", cfn_role, None),
    ]
    assert calls[0].context["cloudformation:RoleArn"] == cfn_role
    assert _pass_role(calls).context["iam:PassedToService"] == "cloudformation.amazonaws.com"


def test_codecommit_get_branch(authz):
    calls = authz("codecommit", lambda c: c.get_branch(repositoryName="ml-repo", branchName="main"))
    assert _pairs(calls) == [
        ("codecommit:GetBranch", f"arn:aws:codecommit:{REGION}:{ACCOUNT_B}:ml-repo", None)
    ]


def test_unlisted_operation_defaults_to_prefix_and_operation_name(authz):
    calls = authz("logs", lambda c: c.create_log_group(logGroupName="/aws/sagemaker/Training"))
    assert _pairs(calls) == [
        (
            "logs:CreateLogGroup",
            f"arn:aws:logs:{REGION}:{ACCOUNT_B}:log-group:/aws/sagemaker/Training",
            None,
        )
    ]


def test_long_term_user_context(authz, deployer):
    (call,) = authz("kms", lambda c: c.list_keys(), credential=deployer)
    assert call.resource == "*"
    assert call.context["aws:PrincipalType"] == "User"
    assert call.context["aws:username"] == "deployer"
    assert "aws:TokenIssueTime" not in call.context


# --- the data table itself -------------------------------------------------------------------


def test_table_names_only_real_operations_resource_types_and_resolvers(mapper: OperationMapper):
    for prefix, service in load_table().items():
        operations = {
            name
            for botocore_name in mapper.services_for(prefix) or [prefix]
            for name in mapper.service_model(botocore_name).operation_names
        }
        assert operations, prefix
        named = set(service.get("operations", {})) | set(service.get("implied_kms", {}))
        assert named <= operations, (prefix, named - operations)
        arns = service.get("arns", {})
        kinds = {kind for _, kind in service.get("resource_by_param", [])}
        for spec in service.get("operations", {}).values():
            kinds |= set(spec.get("resources", []))
            kinds |= {k for extra in spec.get("also", []) for k in extra.get("resources", [])}
        assert kinds - {"*"} <= set(arns), (prefix, kinds - {"*"} - set(arns))
        templates = list(arns.values()) + list(service.get("context", {}).values())
        for template in templates:
            for _, resolver in _PLACEHOLDER.findall(template):
                assert not resolver or resolver in _RESOLVERS, (prefix, resolver)
