"""Denials and authentication failures parse in boto3 as the service's own errors."""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import ClientError
from botocore.parsers import RpcV2CBORParser
from urllib3.response import HTTPResponse

from harness.gateway.errors import (
    ErrorKind,
    WireProtocol,
    access_denied_message,
    render_access_denied,
    render_error,
)

from .conftest import DENY_REASON, REQUEST_ID, LoopbackGateway

CALLS = {
    "s3": lambda c: c.put_object(Bucket="b", Key="k", Body=b"x"),
    "sts": lambda c: c.assume_role(RoleArn="arn:aws:iam::1:role/r", RoleSessionName="ss"),
    "iam": lambda c: c.create_role(RoleName="r", AssumeRolePolicyDocument="{}"),
    "cloudformation": lambda c: c.create_stack(StackName="s", TemplateBody="{}"),
    "kms": lambda c: c.decrypt(CiphertextBlob=b"blob"),
    "stepfunctions": lambda c: c.list_state_machines(),
    "sagemaker": lambda c: c.list_training_jobs(),
    "codepipeline": lambda c: c.put_job_success_result(jobId="j"),
    "logs": lambda c: c.describe_log_groups(),
    "lambda": lambda c: c.invoke(FunctionName="f"),
    "codecommit": lambda c: c.get_branch(repositoryName="r", branchName="main"),
}

# What AWS answers when a policy denies the call.
ACCESS_DENIED = {
    "s3": ("AccessDenied", 403),
    "sts": ("AccessDenied", 403),
    "iam": ("AccessDenied", 403),
    "cloudformation": ("AccessDenied", 403),
    "kms": ("AccessDeniedException", 400),
    "stepfunctions": ("AccessDeniedException", 400),
    "sagemaker": ("AccessDeniedException", 400),
    "codepipeline": ("AccessDeniedException", 400),
    "logs": ("AccessDeniedException", 400),
    "lambda": ("AccessDeniedException", 403),
    "codecommit": ("AccessDeniedException", 400),
}


def _error_of(client_call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        client_call()
    response = raised.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"].get("Message", ""),
    )


@pytest.mark.parametrize("service", sorted(CALLS))
def test_access_denied_parses_with_the_services_code_and_status(
    make_client, gateway: LoopbackGateway, role_session, service
):
    code, status, message = _error_of(lambda: CALLS[service](make_client(service)))
    assert (code, status) == ACCESS_DENIED[service]
    assert message.startswith(f"User: {role_session.arn} is not authorized to perform: ")
    assert message.endswith(f"because {DENY_REASON}")


@pytest.mark.parametrize("service", sorted(CALLS))
def test_errors_carry_the_request_id_where_boto3_reads_it(make_client, service):
    with pytest.raises(ClientError) as raised:
        CALLS[service](make_client(service))
    assert raised.value.response["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_a_bare_head_denial_carries_the_request_id(make_client):
    with pytest.raises(ClientError) as raised:
        make_client("s3").head_object(Bucket="b", Key="k")
    metadata = raised.value.response["ResponseMetadata"]
    assert metadata["RequestId"] == REQUEST_ID and metadata["HostId"]


@pytest.fixture
def forced(gateway: LoopbackGateway):
    def force(kind: ErrorKind) -> None:
        gateway.forced_error = kind

    yield force
    gateway.forced_error = None


@pytest.mark.parametrize("kind", list(ErrorKind))
@pytest.mark.parametrize("service", ["s3", "sts", "kms", "lambda", "codepipeline"])
def test_every_error_kind_round_trips_through_boto3(make_client, forced, service, kind):
    forced(kind)
    code, status, _ = _error_of(lambda: CALLS[service](make_client(service)))
    model = make_client(service).meta.service_model
    protocol = WireProtocol(model.resolved_protocol, model.metadata.get("xmlNamespace"))
    rendered = render_error(protocol, kind, request_id=REQUEST_ID)
    assert (code, status) == (rendered.code, rendered.status)


def test_head_request_denial_has_no_body_and_reads_as_403(make_client, gateway):
    code, status, _ = _error_of(lambda: make_client("s3").head_object(Bucket="b", Key="k"))
    assert (code, status) == ("403", 403)
    response = render_access_denied(
        WireProtocol("rest-xml"),
        caller_arn="arn:aws:iam::1:root",
        action="s3:GetObject",
        resource="arn:aws:s3:::b/k",
        reason="",
        request_id=REQUEST_ID,
        method="HEAD",
    )
    assert response.body == b""
    assert ("Content-Length", "0") in response.headers


def test_query_errors_carry_the_services_namespace():
    sts = WireProtocol("query", xml_namespace="https://sts.amazonaws.com/doc/2011-06-15/")
    body = render_error(sts, ErrorKind.EXPIRED_TOKEN, request_id=REQUEST_ID).body.decode()
    assert body.startswith('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')
    assert "<Code>ExpiredToken</Code>" in body


def test_cbor_error_parses_with_botocores_rpc_v2_parser(mapper):
    model = mapper.service_model("codepipeline")
    operation = model.operation_model("PutJobSuccessResult")
    rendered = render_access_denied(
        WireProtocol("smithy-rpc-v2-cbor"),
        caller_arn="arn:aws:sts::1:assumed-role/R/s",
        action="codepipeline:PutJobSuccessResult",
        resource=None,
        reason="no identity-based policy allows the codepipeline:PutJobSuccessResult action",
        request_id=REQUEST_ID,
    )
    raw = HTTPResponse(body=io.BytesIO(rendered.body), preload_content=False)
    parsed = RpcV2CBORParser().parse(
        {
            "status_code": rendered.status,
            "headers": dict(rendered.headers),
            "body": rendered.body,
            "raw": raw,
        },
        operation.output_shape,
    )
    assert parsed["Error"]["Code"] == "AccessDeniedException"
    assert parsed["Error"]["Message"] == rendered.message
    assert rendered.status == 400


def test_access_denied_message_in_aws_wording():
    assert access_denied_message(
        "arn:aws:sts::222222222222:assumed-role/Admin/s",
        "kms:Decrypt",
        "arn:aws:kms:eu-west-1:111111111111:key/k",
        "no resource-based policy allows the kms:Decrypt action",
    ) == (
        "User: arn:aws:sts::222222222222:assumed-role/Admin/s is not authorized to perform: "
        "kms:Decrypt on resource: arn:aws:kms:eu-west-1:111111111111:key/k because no "
        "resource-based policy allows the kms:Decrypt action"
    )
    assert access_denied_message("arn:aws:iam::1:root", "s3:ListAllMyBuckets", None, "") == (
        "User: arn:aws:iam::1:root is not authorized to perform: s3:ListAllMyBuckets"
    )
