"""Promise 1: every object in the bucket is encrypted with this key, and nothing else gets in.

Each case is tried by several principals that may write the bucket, each under the prefix the
allow-list lets it write: a refusal proves the bucket policy, not a missing permission, because
the same principal's put under this key (``this_key``) succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.client import BaseClient

from harness.deploy import Deployment
from harness.deploy.pipeline import PipelineRun
from harness.deploy.principals import InsecureClients, PrincipalSessions
from harness.policy.access_matrix import Allowlist
from harness.targets import Capability, Target
from tests.integration.evidence import as_principal, attempt, deciding_statement, probe_key

pytestmark = pytest.mark.promise(1)

# Principals that may put objects, from the allow-list: the pipeline role and an action role
# (artifacts), the data publisher (training data).
WRITERS = ("pipeline-role", "training-pipeline-action-role", "data-publisher-role")
# Writers that may also read what they wrote, so a copy is refused for its encryption only.
READER_WRITERS = ("pipeline-role", "training-pipeline-action-role")

Put = Callable[[BaseClient, str, str, Deployment], Any]

FIX = {
    "no_header": "keep the DenyPutWithoutEncryptionHeader statement (Null condition) in "
    "ArtifactBucketPolicy",
    "aes256": "keep DenyPutNotEncryptedWithKms (StringNotEquals aws:kms) in ArtifactBucketPolicy",
    "other_key": "keep DenyPutUnderAnyOtherKey (the key ARN condition) in ArtifactBucketPolicy",
    "plain_http": "keep DenyInsecureTransport on the bucket and its objects "
    "(aws:SecureTransport false)",
    "multipart_no_sse": "the header conditions also cover CreateMultipartUpload; keep them",
    "copy_no_sse": "the header conditions also cover CopyObject (a PutObject); keep them",
}


def _put(sse: dict[str, str]) -> Put:
    def put(s3: BaseClient, bucket: str, key: str, _: Deployment) -> Any:
        return s3.put_object(Bucket=bucket, Key=key, Body=b"harness probe", **sse)

    return put


def _this_key(deployment: Deployment) -> dict[str, str]:
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": deployment.key_arn}


def _put_under(key_of: Callable[[Deployment], str]) -> Put:
    def put(s3: BaseClient, bucket: str, key: str, deployment: Deployment) -> Any:
        return s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=b"harness probe",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=key_of(deployment),
        )

    return put


def _multipart_without_sse() -> Put:
    """A one-part multipart upload whose CreateMultipartUpload names no encryption."""

    def put(s3: BaseClient, bucket: str, key: str, _: Deployment) -> Any:
        upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        part = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"harness part"
        )
        return s3.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )

    return put


DENIED_PUTS: dict[str, Put] = {
    "no_header": _put({}),
    "aes256": _put({"ServerSideEncryption": "AES256"}),
    "other_key": _put_under(lambda d: d.other_key_arn),
    "multipart_no_sse": _multipart_without_sse(),
}
ALLOWED_PUTS: dict[str, Put] = {"this_key": _put_under(lambda d: d.key_arn)}


def _writer(allowlist: Allowlist, name: str) -> tuple[str, str]:
    """The writer's ARN and a key under the object prefix the allow-list lets it write."""
    expected = next(p for p in allowlist.principals if p.name == name)
    label = next(lbl for lbl, acts in expected.bucket.items() if "s3:PutObject" in acts)
    folder = probe_key(allowlist.objects[label]).rsplit("/", 1)[0]
    return expected.arn, folder


def _s3(principals: PrincipalSessions, arn: str) -> BaseClient:
    return as_principal(principals, arn).client("s3")


@pytest.mark.requires(Capability.ENFORCES_BUCKET_POLICY)
@pytest.mark.parametrize("case", sorted(DENIED_PUTS))
@pytest.mark.parametrize("writer", WRITERS)
def test_put_is_denied(
    writer: str,
    case: str,
    deployment: Deployment,
    allowlist: Allowlist,
    principals: PrincipalSessions,
    harness_target: Target,
) -> None:
    arn, folder = _writer(allowlist, writer)
    key = f"{folder}/harness-{case}.bin"
    outcome = attempt(
        lambda: DENIED_PUTS[case](_s3(principals, arn), deployment.bucket, key, deployment)
    )
    assert not outcome.allowed, (
        f"{case}: {writer} ({arn}) wrote s3://{deployment.bucket}/{key} although it is not "
        f"SSE-KMS under {deployment.key_arn}. Decision: "
        f"{deciding_statement(harness_target, arn, 's3:PutObject')}. Fix: {FIX[case]}"
    )


@pytest.mark.requires(Capability.ENFORCES_BUCKET_POLICY)
@pytest.mark.parametrize("case", sorted(ALLOWED_PUTS))
@pytest.mark.parametrize("writer", WRITERS)
def test_put_under_this_key_is_allowed(
    writer: str,
    case: str,
    deployment: Deployment,
    allowlist: Allowlist,
    principals: PrincipalSessions,
    harness_target: Target,
) -> None:
    arn, folder = _writer(allowlist, writer)
    key = f"{folder}/harness-{case}.bin"
    s3 = _s3(principals, arn)
    outcome = attempt(lambda: ALLOWED_PUTS[case](s3, deployment.bucket, key, deployment))
    assert outcome.allowed, (
        f"{writer} ({arn}) may not write s3://{deployment.bucket}/{key} even under the "
        f"artifact key: {outcome.detail}. Decision: "
        f"{deciding_statement(harness_target, arn, 's3:PutObject')}. The pipeline cannot "
        "work like this: check the role's policy, the bucket policy and the key policy"
    )
    assert outcome.response["SSEKMSKeyId"] == deployment.key_arn


@pytest.mark.requires(Capability.ENFORCES_BUCKET_POLICY, Capability.ENFORCES_TLS_CONDITION)
@pytest.mark.parametrize("writer", WRITERS)
def test_put_over_plain_http_is_denied(
    writer: str,
    deployment: Deployment,
    allowlist: Allowlist,
    principals: PrincipalSessions,
    harness_target: Target,
) -> None:
    if not isinstance(harness_target, InsecureClients):
        pytest.skip(f"target {harness_target.name} offers no plain-HTTP endpoint")
    arn, folder = _writer(allowlist, writer)
    key = f"{folder}/harness-plain-http.bin"
    s3 = harness_target.insecure_client("s3", as_principal(principals, arn).session)
    outcome = attempt(
        lambda: _put_under(lambda d: d.key_arn)(s3, deployment.bucket, key, deployment)
    )
    assert not outcome.allowed, (
        f"{writer} ({arn}) wrote s3://{deployment.bucket}/{key} over plain HTTP. Decision: "
        f"{deciding_statement(harness_target, arn, 's3:PutObject')}. Fix: {FIX['plain_http']}"
    )


@pytest.mark.requires(Capability.ENFORCES_BUCKET_POLICY)
@pytest.mark.parametrize("with_key", [False, True], ids=["without_sse", "under_this_key"])
@pytest.mark.parametrize("writer", READER_WRITERS)
def test_copy_needs_this_key(
    writer: str,
    with_key: bool,
    deployment: Deployment,
    allowlist: Allowlist,
    principals: PrincipalSessions,
    harness_target: Target,
) -> None:
    arn, folder = _writer(allowlist, writer)
    s3 = _s3(principals, arn)
    source = f"{folder}/harness-copy-source.bin"
    s3.put_object(
        Bucket=deployment.bucket, Key=source, Body=b"harness copy", **_this_key(deployment)
    )
    key = f"{folder}/harness-copy-{'kms' if with_key else 'plain'}.bin"
    extra = _this_key(deployment) if with_key else {}
    outcome = attempt(
        lambda: s3.copy_object(
            Bucket=deployment.bucket,
            Key=key,
            CopySource={"Bucket": deployment.bucket, "Key": source},
            **extra,
        )
    )
    decision = deciding_statement(harness_target, arn, "s3:PutObject")
    if with_key:
        assert outcome.allowed, f"{writer} ({arn}) cannot copy under this key: {decision}"
    else:
        assert not outcome.allowed, (
            f"{writer} ({arn}) copied to s3://{deployment.bucket}/{key} without SSE. "
            f"Decision: {decision}. Fix: {FIX['copy_no_sse']}"
        )


@pytest.mark.requires(Capability.APPLIES_TEMPLATE_SETTINGS)
def test_bucket_default_encryption_is_this_key(
    deployment: Deployment, harness_target: Target
) -> None:
    """A put that names no encryption is refused by the policy; the default must still be this
    key, or writers that rely on it (the original's pipeline) write under another one."""
    s3 = harness_target.client("s3", harness_target.session("shared-services"))
    rules = s3.get_bucket_encryption(Bucket=deployment.bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    defaults = [rule.get("ApplyServerSideEncryptionByDefault", {}) for rule in rules]
    assert {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": deployment.key_arn} in defaults, (
        f"bucket {deployment.bucket} defaults to {defaults}, not SSE-KMS under "
        f"{deployment.key_arn}. Fix: ArtifactBucket BucketEncryption "
        "ServerSideEncryptionByDefault {SSEAlgorithm: aws:kms, KMSMasterKeyID: the key ARN}"
    )


@pytest.mark.requires(Capability.RUNS_PIPELINE)
def test_every_object_is_sse_kms_under_this_key(
    pipeline_run: PipelineRun,
    deployment: Deployment,
    allowlist: Allowlist,
    principals: PrincipalSessions,
    harness_target: Target,
) -> None:
    """Every object, the pipeline's artifacts included, after the run.

    Each is inspected (HeadObject) by the allow-list's readers in turn, those the allow-list
    lets read that prefix first, since reading an object's encryption may need the key: an
    object no reader can inspect is a finding too.
    Current versions only: no allow-listed role may read old versions (s3:GetObjectVersion).
    """
    # Top-level prefix -> the allow-list principals that may read objects under it.
    readers: dict[str, list[str]] = {}
    for principal in allowlist.principals:
        for label, actions in principal.bucket.items():
            if "s3:GetObject" in actions:
                top = allowlist.objects[label].split("/", 1)[0]
                readers.setdefault(top, []).append(principal.arn)
    everyone = list(dict.fromkeys(arn for arns in readers.values() for arn in arns))
    listing = harness_target.client("s3", harness_target.session("shared-services"))
    wrong = []
    seen = 0
    for page in listing.get_paginator("list_objects_v2").paginate(Bucket=deployment.bucket):
        for listed in page.get("Contents", []):
            seen += 1
            likely = readers.get(listed["Key"].split("/", 1)[0], [])
            clients = [_s3(principals, arn) for arn in dict.fromkeys(likely + everyone)]
            head = _inspect(clients, deployment.bucket, listed["Key"])
            encryption = (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId"))
            if encryption != ("aws:kms", deployment.key_arn):
                wrong.append(f"{listed['Key']}: {encryption}")
    assert seen, f"bucket {deployment.bucket} is empty after pipeline {pipeline_run.pipeline} ran"
    assert not wrong, (
        f"objects in {deployment.bucket} not SSE-KMS under {deployment.key_arn}: "
        + "; ".join(wrong)
        + ". Fix: the writer must name the key (artifactStore.encryptionKey, "
        "OutputDataConfig.KmsKeyId) and the bucket default must be SSE-KMS under it"
    )


def _inspect(readers: list[BaseClient], bucket: str, key: str) -> dict[str, Any]:
    """HeadObject as the first reader allowed to; the errors of all when none is."""
    denials = []
    for s3 in readers:
        outcome = attempt(lambda s3=s3: s3.head_object(Bucket=bucket, Key=key))
        if outcome.allowed:
            return dict(outcome.response)
        denials.append(outcome.detail)
    return {
        "ServerSideEncryption": "unreadable by every allow-listed reader: " + "; ".join(denials)
    }
