"""Requests from real boto3 clients map to the operation and parameters the caller used."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from botocore.serialize import RpcV2CBORSerializer

from harness.gateway.operations import OperationMapper, UnknownOperationError

from .conftest import LoopbackGateway

ROLE = "arn:aws:iam::222222222222:role/service-role/TrainingRole"

CASES = [
    # (client, call, operation, expected subset of params)
    (
        "s3",
        lambda c: c.put_object(Bucket="b", Key="a/b c", Body=b"x"),
        "PutObject",
        {"Bucket": "b", "Key": "a/b c"},
    ),
    (
        "s3",
        lambda c: c.put_object(
            Bucket="b",
            Key="k",
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId="alias/artifacts",
        ),
        "PutObject",
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/artifacts"},
    ),
    (
        "s3",
        lambda c: c.get_object(Bucket="b", Key="k", VersionId="v1"),
        "GetObject",
        {"Bucket": "b", "Key": "k", "VersionId": "v1"},
    ),
    ("s3", lambda c: c.head_object(Bucket="b", Key="k"), "HeadObject", {"Key": "k"}),
    ("s3", lambda c: c.head_bucket(Bucket="b"), "HeadBucket", {"Bucket": "b"}),
    (
        "s3",
        lambda c: c.copy_object(Bucket="b", Key="dst", CopySource={"Bucket": "s", "Key": "a b"}),
        "CopyObject",
        {"Bucket": "b", "Key": "dst", "CopySource": "s/a%20b"},
    ),
    (
        "s3",
        lambda c: c.create_multipart_upload(Bucket="b", Key="k"),
        "CreateMultipartUpload",
        {"Key": "k"},
    ),
    (
        "s3",
        lambda c: c.upload_part(Bucket="b", Key="k", UploadId="u", PartNumber=3, Body=b"x"),
        "UploadPart",
        {"UploadId": "u", "PartNumber": 3},
    ),
    (
        "s3",
        lambda c: c.upload_part_copy(
            Bucket="b", Key="k", UploadId="u", PartNumber=1, CopySource="s/k"
        ),
        "UploadPartCopy",
        {"UploadId": "u"},
    ),
    (
        "s3",
        lambda c: c.complete_multipart_upload(Bucket="b", Key="k", UploadId="u"),
        "CompleteMultipartUpload",
        {"UploadId": "u"},
    ),
    (
        "s3",
        lambda c: c.abort_multipart_upload(Bucket="b", Key="k", UploadId="u"),
        "AbortMultipartUpload",
        {"UploadId": "u"},
    ),
    ("s3", lambda c: c.list_multipart_uploads(Bucket="b"), "ListMultipartUploads", {"Bucket": "b"}),
    (
        "s3",
        lambda c: c.list_objects_v2(Bucket="b", Prefix="in/", MaxKeys=7),
        "ListObjectsV2",
        {"Prefix": "in/", "MaxKeys": 7},
    ),
    ("s3", lambda c: c.list_objects(Bucket="b"), "ListObjects", {"Bucket": "b"}),
    ("s3", lambda c: c.list_buckets(), "ListBuckets", {}),
    (
        "s3",
        lambda c: c.put_bucket_policy(Bucket="b", Policy="{}"),
        "PutBucketPolicy",
        {"Bucket": "b"},
    ),
    ("s3", lambda c: c.get_bucket_policy(Bucket="b"), "GetBucketPolicy", {"Bucket": "b"}),
    (
        "s3",
        lambda c: c.put_bucket_encryption(
            Bucket="b",
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        ),
        "PutBucketEncryption",
        {"Bucket": "b"},
    ),
    ("s3", lambda c: c.get_bucket_encryption(Bucket="b"), "GetBucketEncryption", {}),
    (
        "s3",
        lambda c: c.put_object_tagging(Bucket="b", Key="k", Tagging={"TagSet": []}),
        "PutObjectTagging",
        {"Key": "k"},
    ),
    ("s3", lambda c: c.delete_object(Bucket="b", Key="k"), "DeleteObject", {"Key": "k"}),
    (
        "s3",
        lambda c: c.put_object(Bucket="b", Key="k", Body=b"", Metadata={"Owner": "me"}),
        "PutObject",
        {"Metadata": {"owner": "me"}},
    ),
    (
        "kms",
        lambda c: c.encrypt(KeyId="alias/a", Plaintext=b"x", EncryptionContext={"p": "q"}),
        "Encrypt",
        {"KeyId": "alias/a", "EncryptionContext": {"p": "q"}},
    ),
    (
        "kms",
        lambda c: c.create_grant(KeyId="k", GranteePrincipal=ROLE, Operations=["Decrypt"]),
        "CreateGrant",
        {"GranteePrincipal": ROLE, "Operations": ["Decrypt"]},
    ),
    (
        "sts",
        lambda c: c.assume_role(RoleArn=ROLE, RoleSessionName="s1", DurationSeconds=900),
        "AssumeRole",
        {"RoleArn": ROLE, "RoleSessionName": "s1", "DurationSeconds": 900},
    ),
    (
        "iam",
        lambda c: c.create_role(
            RoleName="r",
            Path="/service-role/",
            AssumeRolePolicyDocument="{}",
            Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
        ),
        "CreateRole",
        {
            "RoleName": "r",
            "Path": "/service-role/",
            "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
        },
    ),
    (
        "cloudformation",
        lambda c: c.create_stack(
            StackName="s",
            TemplateBody="{}",
            RoleARN=ROLE,
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[{"ParameterKey": "P", "ParameterValue": "v"}],
        ),
        "CreateStack",
        {
            "RoleARN": ROLE,
            "Capabilities": ["CAPABILITY_IAM"],
            "Parameters": [{"ParameterKey": "P", "ParameterValue": "v"}],
        },
    ),
    (
        "lambda",
        lambda c: c.create_function(
            FunctionName="f", Role=ROLE, Code={"ZipFile": b"z"}, Runtime="python3.12", Handler="h.h"
        ),
        "CreateFunction",
        {"FunctionName": "f", "Role": ROLE, "Runtime": "python3.12"},
    ),
    (
        "lambda",
        lambda c: c.invoke(FunctionName="f", Qualifier="live", Payload=b"{}"),
        "Invoke",
        {"FunctionName": "f", "Qualifier": "live"},
    ),
    (
        "codepipeline",
        lambda c: c.put_job_success_result(jobId="j1"),
        "PutJobSuccessResult",
        {"jobId": "j1"},
    ),
    (
        "codecommit",
        lambda c: c.get_branch(repositoryName="repo", branchName="main"),
        "GetBranch",
        {"repositoryName": "repo", "branchName": "main"},
    ),
    (
        "stepfunctions",
        lambda c: c.start_execution(stateMachineArn="arn:sm", input="{}"),
        "StartExecution",
        {"stateMachineArn": "arn:sm"},
    ),
    (
        "sagemaker",
        lambda c: c.create_endpoint(EndpointName="e", EndpointConfigName="c"),
        "CreateEndpoint",
        {"EndpointName": "e", "EndpointConfigName": "c"},
    ),
    (
        "sagemaker-runtime",
        lambda c: c.invoke_endpoint(EndpointName="e", Body=b"1"),
        "InvokeEndpoint",
        {"EndpointName": "e"},
    ),
    (
        "logs",
        lambda c: c.create_log_group(logGroupName="/aws/lambda/f"),
        "CreateLogGroup",
        {"logGroupName": "/aws/lambda/f"},
    ),
]


@pytest.mark.parametrize(("service", "call", "operation", "params"), CASES)
def test_operation_and_params(
    make_client, gateway: LoopbackGateway, service, call, operation, params
):
    client = make_client(service)
    with pytest.raises(ClientError):
        call(client)
    seen = gateway.last()
    assert seen.call is not None
    assert seen.call.operation == operation
    assert seen.call.service_name == service
    assert {name: seen.call.params.get(name) for name in params} == params


def test_protocols_on_the_wire(make_client, gateway: LoopbackGateway):
    expected = {
        "s3": "rest-xml",
        "iam": "query",
        "kms": "json",
        "lambda": "rest-json",
        # CodePipeline's model offers CBOR first, but botocore prefers JSON.
        "codepipeline": "json",
    }
    calls = {
        "s3": lambda c: c.list_buckets(),
        "iam": lambda c: c.list_roles(),
        "kms": lambda c: c.list_keys(),
        "lambda": lambda c: c.list_functions(),
        "codepipeline": lambda c: c.list_pipelines(),
    }
    for service, name in expected.items():
        with pytest.raises(ClientError):
            calls[service](make_client(service))
        assert gateway.last().call.protocol.name == name


def test_step_functions_signs_as_states(make_client, gateway: LoopbackGateway):
    with pytest.raises(ClientError):
        make_client("stepfunctions").list_state_machines()
    call = gateway.last().call
    assert (call.signing_name, call.service_name) == ("states", "stepfunctions")


def test_unknown_operation_still_knows_the_protocol(mapper: OperationMapper):
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "HTTP_X_AMZ_TARGET": "TrentService.NoSuchThing",
        "CONTENT_TYPE": "application/x-amz-json-1.1",
    }
    with pytest.raises(UnknownOperationError) as raised:
        mapper.identify(environ, b"{}", "kms", "eu-west-1")
    assert raised.value.protocol.name == "json"
    assert raised.value.protocol.json_version == "1.1"


def test_signing_name_index_groups_shared_names(mapper: OperationMapper):
    assert mapper.services_for("states") == ["stepfunctions"]
    sagemaker = mapper.services_for("sagemaker")
    assert sagemaker[0] == "sagemaker" and "sagemaker-runtime" in sagemaker
    assert mapper.services_for("no-such-service") == []
    by_host = mapper.services_for("sagemaker", "runtime.sagemaker.eu-west-1.amazonaws.com:443")
    assert by_host[0] == "sagemaker-runtime"
    assert mapper.services_for("sagemaker", "127.0.0.1:4566")[0] == "sagemaker"


def test_smithy_rpc_v2_cbor_requests_map_too(mapper: OperationMapper):
    """Other SDKs speak CBOR to CodePipeline; serialize with botocore's own CBOR serializer."""
    model = mapper.service_model("codepipeline")
    operation = model.operation_model("PutJobFailureResult")
    request = RpcV2CBORSerializer().serialize_to_request(
        {"jobId": "j-9", "failureDetails": {"type": "JobFailed", "message": "boom"}}, operation
    )
    environ = {
        "REQUEST_METHOD": request["method"],
        "PATH_INFO": request["url_path"],
        "QUERY_STRING": "",
        **{
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in request["headers"].items()
        },
    }
    call = mapper.identify(environ, request["body"], "codepipeline", "eu-west-1")
    assert call.operation == "PutJobFailureResult"
    assert call.protocol.name == "smithy-rpc-v2-cbor"
    assert call.params == {
        "jobId": "j-9",
        "failureDetails": {"type": "JobFailed", "message": "boom"},
    }


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"HTTP_X_AMZ_TARGET": "TrentService.DescribeKey"}, b"{not json"),
        ({"HTTP_SMITHY_PROTOCOL": "rpc-v2-cbor"}, b"\xff\x00"),
    ],
)
def test_malformed_bodies_still_identify_the_operation(mapper: OperationMapper, headers, body):
    service, path = (
        ("kms", "/")
        if "HTTP_X_AMZ_TARGET" in headers
        else ("codepipeline", "/service/CodePipeline_20150709/operation/ListPipelines")
    )
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", **headers}
    call = mapper.identify(environ, body, service, "eu-west-1")
    assert call.params == {}
    assert call.operation in ("DescribeKey", "ListPipelines")
