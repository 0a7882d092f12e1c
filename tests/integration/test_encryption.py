"""Promise 1: every object in the bucket is encrypted with this key, and nothing else gets in.

Each writer tries each way of writing that is not SSE-KMS under this key (no header, AES256,
another key the writer may use, a multipart upload and a copy without SSE): the bucket policy
must refuse each, and the same writer's same put under this key (the control) must be allowed.
Every request without TLS, on an object or on the bucket itself, must be refused by the bucket
policy while the same request over TLS is allowed. See ``harness/probes/encryption.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.client import BaseClient

from harness.deploy import Deployment
from harness.deploy.pipeline import PipelineRun
from harness.deploy.principals import PrincipalSessions, Unavailable
from harness.policy.access_matrix import Allowlist
from harness.probes.calls import attempt
from harness.probes.judge import Verdict
from harness.report import RunRecord
from harness.targets import Capability, Target
from tests.integration.evidence import conclude

pytestmark = [pytest.mark.promise(1), pytest.mark.requires(Capability.ENFORCES_BUCKET_POLICY)]
VerdictOf = Callable[[str, str], Verdict]


@pytest.mark.cells("put", expected=False)
def test_put_not_under_this_key_is_refused(
    cell_id: str, verdict_of: VerdictOf, harness_record: RunRecord
) -> None:
    conclude(verdict_of("put", cell_id), harness_record, "put")


@pytest.mark.cells("put", expected=True)
def test_put_under_this_key_is_allowed(
    cell_id: str, verdict_of: VerdictOf, harness_record: RunRecord
) -> None:
    conclude(verdict_of("put", cell_id), harness_record, "put")


@pytest.mark.requires(Capability.ENFORCES_TLS_CONDITION)
@pytest.mark.cells("tls")
def test_request_without_tls_is_refused(
    cell_id: str, verdict_of: VerdictOf, harness_record: RunRecord
) -> None:
    conclude(verdict_of("tls", cell_id), harness_record, "tls")


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
            clients = _clients(principals, dict.fromkeys(likely + everyone))
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


def _clients(principals: PrincipalSessions, arns: dict[str, None]) -> list[BaseClient]:
    """S3 clients of the readers the target can act as (on real AWS, not the service roles)."""
    clients = []
    for arn in arns:
        try:
            clients.append(principals.client(arn, "s3"))
        except Unavailable:
            continue
    if not clients:
        pytest.skip("the target can act as none of the allow-list's readers")
    return clients


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
