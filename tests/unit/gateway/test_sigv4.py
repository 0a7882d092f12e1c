"""SigV4 verification against what real botocore clients send, over HTTP and HTTPS."""

from __future__ import annotations

import datetime
import ssl
import urllib.error
import urllib.request
from hashlib import sha256

import pytest
from botocore.exceptions import ClientError

from harness.gateway.credentials import Credential, CredentialStore
from harness.gateway.errors import ErrorKind, GatewayError
from harness.gateway.sigv4 import parse_signature, verify

from .conftest import ACCOUNT_A, LoopbackGateway, Seen

S3_KEYS = ["plain.csv", "dir/sub dir/a+b=c.csv", "ünïcødé/€.txt", "odd%2Fslash~!*'()", "x/../y"]


def _call_and_capture(gateway: LoopbackGateway, call) -> Seen:
    with pytest.raises(ClientError):
        call()
    return gateway.last()


def _reverify(seen: Seen, store: CredentialStore, **kwargs) -> ErrorKind | None:
    try:
        verify(seen.environ, seen.body, store, **kwargs)
    except GatewayError as exc:
        return exc.kind
    return None


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("key", S3_KEYS)
def test_s3_put_object_verifies(make_client, gateway, role_session, secure, key):
    s3 = make_client("s3", secure=secure)
    seen = _call_and_capture(gateway, lambda: s3.put_object(Bucket="art", Key=key, Body=b"a,b\n"))
    assert seen.error is None
    assert seen.verified is not None and seen.verified.credential == role_session
    assert seen.call is not None and seen.call.params["Key"] == key
    # boto3 1.44 signs the payload over HTTP, streams an unsigned aws-chunked body over HTTPS.
    expected = "STREAMING-UNSIGNED-PAYLOAD-TRAILER" if secure else sha256(b"a,b\n").hexdigest()
    assert seen.environ["HTTP_X_AMZ_CONTENT_SHA256"] == expected
    assert seen.verified.signature.auth_type == "REST-HEADER"


def test_signed_payload_is_checked_against_the_body(make_client, gateway, store):
    s3 = make_client("s3", secure=False)
    seen = _call_and_capture(gateway, lambda: s3.put_object(Bucket="b", Key="k", Body=b"data"))
    assert seen.error is None
    seen.body = b"DATA"
    assert _reverify(seen, store) is ErrorKind.CONTENT_SHA256_MISMATCH


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("s3", lambda c: c.list_objects_v2(Bucket="b", Prefix="a b/c+d=é", MaxKeys=5)),
        (
            "s3",
            lambda c: c.upload_part(Bucket="b", Key="k", UploadId="u~1", PartNumber=2, Body=b"x"),
        ),
        ("kms", lambda c: c.encrypt(KeyId="alias/artifacts", Plaintext=b"x")),
        ("sts", lambda c: c.assume_role(RoleArn="arn:aws:iam::1:role/r", RoleSessionName="s s")),
        ("iam", lambda c: c.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument="{}")),
        ("lambda", lambda c: c.invoke(FunctionName="arn:aws:lambda:eu-west-1:1:function:f:live")),
        ("lambda", lambda c: c.get_function(FunctionName="f", Qualifier="$LATEST")),
        ("codepipeline", lambda c: c.put_job_success_result(jobId="job-1")),
        ("sagemaker-runtime", lambda c: c.invoke_endpoint(EndpointName="e", Body=b"1,2")),
    ],
)
@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_requests_of_every_protocol_verify(make_client, gateway, store, service, call, secure):
    client = make_client(service, secure=secure)
    seen = _call_and_capture(gateway, lambda: call(client))
    assert seen.error is None, seen.error
    seen.environ["QUERY_STRING"] += "&tampered=1"
    assert _reverify(seen, store) is ErrorKind.SIGNATURE_MISMATCH


def test_tampered_signed_header_is_a_signature_mismatch(make_client, gateway, store):
    s3 = make_client("s3", secure=False)
    seen = _call_and_capture(
        gateway,
        lambda: s3.put_object(Bucket="b", Key="k", Body=b"x", ServerSideEncryption="aws:kms"),
    )
    assert seen.error is None
    seen.environ["HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION"] = "AES256"
    assert _reverify(seen, store) is ErrorKind.SIGNATURE_MISMATCH


def test_clock_skew_over_fifteen_minutes_is_refused(make_client, gateway, store):
    kms = make_client("kms")
    seen = _call_and_capture(gateway, lambda: kms.describe_key(KeyId="k"))
    sent = parse_signature(seen.environ).amz_date
    assert _reverify(seen, store, now=sent + datetime.timedelta(minutes=14)) is None
    late = _reverify(seen, store, now=sent + datetime.timedelta(minutes=16))
    early = _reverify(seen, store, now=sent - datetime.timedelta(minutes=16))
    assert late is early is ErrorKind.REQUEST_TIME_SKEWED


@pytest.mark.parametrize(
    ("service", "wrong", "code", "status"),
    [
        ("s3", "secret", "SignatureDoesNotMatch", 403),
        ("sts", "secret", "SignatureDoesNotMatch", 403),
        ("kms", "secret", "InvalidSignatureException", 400),
        ("lambda", "secret", "InvalidSignatureException", 403),
        ("codepipeline", "secret", "InvalidSignatureException", 400),
        ("s3", "token", "InvalidToken", 400),
        ("iam", "token", "InvalidClientTokenId", 403),
        ("stepfunctions", "token", "UnrecognizedClientException", 400),
    ],
)
def test_wrong_secret_or_token_fails_in_the_services_shape(
    make_client, role_session, service, wrong, code, status
):
    overrides = {"secret": "not-the-secret"} if wrong == "secret" else {"token": "forged"}
    client = make_client(service, **overrides)
    with pytest.raises(ClientError) as raised:
        _any_call(service, client)
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


@pytest.mark.parametrize(
    ("service", "code", "status"),
    [
        ("s3", "InvalidAccessKeyId", 403),
        ("sts", "InvalidClientTokenId", 403),
        ("cloudformation", "InvalidClientTokenId", 403),
        ("kms", "UnrecognizedClientException", 400),
        ("sagemaker", "UnrecognizedClientException", 400),
        ("lambda", "UnrecognizedClientException", 403),
    ],
)
def test_unknown_access_key_fails_in_the_services_shape(make_client, service, code, status):
    stranger = Credential(
        access_key_id="AKIANEVERISSUED0000",
        secret_access_key="x",
        session_token=None,
        arn=f"arn:aws:iam::{ACCOUNT_A}:user/x",
        principal_arn=f"arn:aws:iam::{ACCOUNT_A}:user/x",
        principal_type="User",
        account_id=ACCOUNT_A,
    )
    client = make_client(service, credential=stranger)
    with pytest.raises(ClientError) as raised:
        _any_call(service, client)
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_expired_session_is_refused_as_expired_token(make_client, store):
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    expired = store.issue_role_session(f"arn:aws:iam::{ACCOUNT_A}:role/Old", "s", now=past)
    for service, code in [("s3", "ExpiredToken"), ("kms", "ExpiredTokenException")]:
        with pytest.raises(ClientError) as raised:
            _any_call(service, make_client(service, credential=expired))
        assert raised.value.response["Error"]["Code"] == code


def test_long_term_key_with_a_session_token_is_refused(make_client, deployer):
    with pytest.raises(ClientError) as raised:
        _any_call("sts", make_client("sts", credential=deployer, token="stray"))
    assert raised.value.response["Error"]["Code"] == "InvalidClientTokenId"


def _any_call(service: str, client) -> None:
    calls = {
        "s3": lambda: client.get_object(Bucket="b", Key="k"),
        "sts": lambda: client.get_caller_identity(),
        "iam": lambda: client.get_role(RoleName="r"),
        "cloudformation": lambda: client.describe_stacks(StackName="s"),
        "kms": lambda: client.describe_key(KeyId="k"),
        "sagemaker": lambda: client.describe_endpoint(EndpointName="e"),
        "stepfunctions": lambda: client.list_state_machines(),
        "lambda": lambda: client.get_function(FunctionName="f"),
        "codepipeline": lambda: client.get_pipeline_state(name="p"),
    }
    calls[service]()


def _fetch(url: str, cafile: str, method: str = "GET") -> None:
    context = ssl.create_default_context(cafile=cafile)
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, context=context, timeout=5)


@pytest.mark.parametrize("key", S3_KEYS)
def test_presigned_s3_url_verifies_until_it_expires(make_client, gateway, store, tls_material, key):
    # With a custom endpoint botocore presigns S3 with SigV2 unless told otherwise.
    s3 = make_client("s3", signature_version="s3v4")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "art", "Key": key}, ExpiresIn=60
    )
    _fetch(url, str(tls_material.ca_bundle))
    seen = gateway.last()
    assert seen.error is None, seen.error
    assert seen.verified.signature.presigned
    assert seen.verified.signature.auth_type == "REST-QUERY-STRING"
    assert seen.call.operation == "GetObject" and seen.call.params["Key"] == key
    sent = seen.verified.signature.amz_date
    assert _reverify(seen, store, now=sent + datetime.timedelta(seconds=59)) is None
    expired = _reverify(seen, store, now=sent + datetime.timedelta(seconds=61))
    assert expired is ErrorKind.PRESIGNED_URL_EXPIRED


def test_presigned_url_of_a_query_service_verifies(make_client, gateway, tls_material):
    sts = make_client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60)
    # botocore signs a query-protocol presigned URL with the operation's method, POST.
    _fetch(url, str(tls_material.ca_bundle), method="POST")
    seen = gateway.last()
    assert seen.error is None, seen.error
    assert seen.call.operation == "GetCallerIdentity"


def test_sigv2_presigned_url_is_refused_not_treated_as_anonymous(
    make_client, gateway, tls_material
):
    url = make_client("s3").generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert "AWSAccessKeyId=" in url
    _fetch(url, str(tls_material.ca_bundle))
    assert gateway.last().error.kind is ErrorKind.INCOMPLETE_SIGNATURE


def test_unsigned_request_is_missing_authentication(https_endpoint, gateway, tls_material):
    _fetch(f"{https_endpoint}/bucket/key", str(tls_material.ca_bundle))
    assert gateway.last().error.kind is ErrorKind.MISSING_AUTHENTICATION


@pytest.mark.parametrize("key", ["dir/sub dir/a+b=c.csv", "ünïcødé/€.txt"])
def test_servers_without_raw_uri_are_verified_from_path_info(make_client, gateway, store, key):
    """wsgiref gives only the decoded PATH_INFO; re-encoding it as botocore does suffices."""
    s3 = make_client("s3")
    seen = _call_and_capture(gateway, lambda: s3.get_object(Bucket="b", Key=key))
    for name in ("RAW_URI", "REQUEST_URI"):
        seen.environ.pop(name, None)
    assert _reverify(seen, store) is None


def _signed_at(date: str) -> dict[str, str]:
    return {
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/us-east-1/s3/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        "HTTP_X_AMZ_DATE": date,
    }


@pytest.mark.parametrize(
    "date", ["20261202T075702Z", "Wed, 02 Dec 2026 07:57:02 GMT"], ids=["sigv4", "http-date"]
)
def test_the_request_date_is_read_in_either_form(date: str) -> None:
    info = parse_signature(_signed_at(date))
    assert info is not None
    assert info.amz_date == datetime.datetime(2026, 12, 2, 7, 57, 2, tzinfo=datetime.UTC)


@pytest.mark.parametrize("date", ["20261302T075702Z", "2026120aT075702Z", "20261202T0757.2Z"])
def test_a_malformed_request_date_is_an_incomplete_signature(date: str) -> None:
    with pytest.raises(GatewayError) as raised:
        parse_signature(_signed_at(date))
    assert raised.value.kind is ErrorKind.INCOMPLETE_SIGNATURE
