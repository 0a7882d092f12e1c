"""Promise 1's cells: a put that is not SSE-KMS under this key, and any request without TLS,
is refused by the bucket policy; the same request under this key, over TLS, is allowed.

Every refusal is paired with its control: the same principal, the same object (or bucket
call), differing only in the property under test (the encryption header, the key, TLS).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.evidence import Intent, PolicyKind
from harness.probes.calls import Call
from harness.probes.cells import Cell, Row, World, cell_id, object_call, probe_key, rows, tls

BUCKET_POLICY = frozenset({PolicyKind.RESOURCE})
BODY = b"harness encryption probe"


@dataclass(frozen=True)
class Put:
    """A way to write an object: the SSE headers it sends and how (put, multipart, copy)."""

    column: str
    differs_in: str  # what differs from a put under this key
    headers: Callable[[World], dict[str, str]]
    write: Callable[[BaseClient, str, str, dict[str, str]], Any]
    needs_read: bool = False  # a copy reads its source, so only writers that may read do it


def _put_object(s3: BaseClient, bucket: str, key: str, headers: dict[str, str]) -> Any:
    return s3.put_object(Bucket=bucket, Key=key, Body=BODY, **headers)


def _multipart(s3: BaseClient, bucket: str, key: str, headers: dict[str, str]) -> Any:
    """CreateMultipartUpload with ``headers``: the request that carries the SSE headers, so
    where a bucket policy decides. The upload is aborted again when allowed.

    Parts are not uploaded: an UploadPart request carries no SSE header, and S3 refuses it
    under a bucket policy that requires the header (boto/botocore#471, aws/aws-cli#4251), so a
    multipart upload into this bucket stops at its first part whatever the headers were.
    """
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **headers)
    # The principal may not be allowed to abort; the bucket's lifecycle rule aborts it in a day.
    with contextlib.suppress(ClientError):
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
    return upload


def _copy(s3: BaseClient, bucket: str, key: str, headers: dict[str, str]) -> Any:
    """A copy of the principal's own control object onto ``key``."""
    source = key.rsplit("/", 1)[0] + "/harness-copy-source.bin"
    return s3.copy_object(
        Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": source}, **headers
    )


def _this_key(world: World) -> dict[str, str]:
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": world.key_arn}


PUTS = (
    Put("no SSE header", "the encryption header", lambda w: {}, _put_object),
    Put(
        "AES256",
        "the encryption algorithm",
        lambda w: {"ServerSideEncryption": "AES256"},
        _put_object,
    ),
    Put(
        "another key",
        "the key",
        lambda w: {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": w.other_key_arn},
        _put_object,
    ),
    Put("multipart without SSE", "the encryption header", lambda w: {}, _multipart),
    Put("copy without SSE", "the encryption header", lambda w: {}, _copy, needs_read=True),
)


def _writers(world: World) -> list[tuple[Row, str]]:
    """Each principal that may put some object, with the probe folder it may write."""
    found = []
    for row in rows(world):
        label = next(
            (lbl for lbl in world.allowlist.objects if row.allows("bucket", "s3:PutObject", lbl)),
            None,
        )
        if label is not None:
            found.append((row, probe_key(world.allowlist.objects[label]).rsplit("/", 1)[0]))
    return found


def _put_call(
    world: World,
    row: Row,
    folder: str,
    put: Put,
    headers: dict[str, str],
    *,
    plain_http: bool = False,
) -> Call:
    bucket = world.bucket
    key = f"{folder}/harness-{put.write.__name__.strip('_')}.bin"
    context = tls({"aws:SecureTransport": str(not plain_http).lower()})
    if "ServerSideEncryption" in headers:
        context["s3:x-amz-server-side-encryption"] = headers["ServerSideEncryption"]
    if "SSEKMSKeyId" in headers:
        context["s3:x-amz-server-side-encryption-aws-kms-key-id"] = headers["SSEKMSKeyId"]
    sent = ", ".join(f"{k}={v}" for k, v in headers.items()) or "no SSE header"
    return Call(
        label=f"{put.write.__name__.strip('_').replace('_', ' ')} s3://{bucket}/{key} with {sent}"
        + (" over plain HTTP" if plain_http else ""),
        principal=row.arn,
        service="s3",
        invoke=lambda s3: put.write(s3, bucket, key, headers),
        intent=Intent(
            row.arn,
            "s3:PutObject",
            f"arn:aws:s3:::{bucket}/{key}",
            context,
            resource_account=world.bucket_account,
        ),
        plain_http=plain_http,
    )


def _copy_source(world: World, row: Row, folder: str) -> Call:
    """The object a copy probe copies from, written under the key by the principal itself."""
    bucket = world.bucket
    key = f"{folder}/harness-copy-source.bin"
    return Call(
        label=f"put s3://{bucket}/{key} under the artifact key",
        principal=row.arn,
        service="s3",
        invoke=lambda s3: _put_object(s3, bucket, key, _this_key(world)),
        intent=Intent(row.arn, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}", tls()),
    )


def put_cells(world: World) -> Iterator[Cell]:
    """Each writer x each way of writing without this key, refused by the bucket policy; and
    the writer's put under this key, allowed (the control of them all)."""
    for row, folder in _writers(world):
        readable = row.allows("bucket", "s3:GetObject", _label_of(world, folder))
        for put in PUTS:
            if put.needs_read and not readable:
                continue
            control = _put_call(world, row, folder, put, _this_key(world))
            yield Cell(
                id=cell_id(row.name, put.column),
                promise=1,
                group="put not under this key",
                row=row.name,
                column=put.column,
                call=_put_call(world, row, folder, put, put.headers(world)),
                expected=False,
                control=control,
                differs_in=put.differs_in,
                refused_by=BUCKET_POLICY,
            )
        yield Cell(
            id=cell_id(row.name, "under this key"),
            promise=1,
            group="put under this key",
            row=row.name,
            column="under this key",
            call=_put_call(world, row, folder, PUTS[0], _this_key(world)),
            expected=True,
        )


def copy_sources(world: World) -> list[Call]:
    """The objects the copy probes read, to be written before them."""
    return [
        _copy_source(world, row, folder)
        for row, folder in _writers(world)
        if row.allows("bucket", "s3:GetObject", _label_of(world, folder))
    ]


def _label_of(world: World, folder: str) -> str:
    top = folder.split("/", 1)[0]
    return next(lbl for lbl, key in world.allowlist.objects.items() if key.split("/", 1)[0] == top)


# TLS --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BucketCall:
    """A request on the bucket itself (not an object), as A's deployer makes it."""

    column: str
    action: str
    invoke: Callable[[BaseClient, str], Any]


BUCKET_CALLS = (
    BucketCall(
        "ListBucket", "s3:ListBucket", lambda s3, b: s3.list_objects_v2(Bucket=b, MaxKeys=1)
    ),
    BucketCall(
        "GetBucketPolicy", "s3:GetBucketPolicy", lambda s3, b: s3.get_bucket_policy(Bucket=b)
    ),
    BucketCall(
        "GetBucketEncryption",
        "s3:GetEncryptionConfiguration",
        lambda s3, b: s3.get_bucket_encryption(Bucket=b),
    ),
)


def _bucket_call(world: World, principal: str, call: BucketCall, plain_http: bool) -> Call:
    bucket = world.bucket
    return Call(
        label=f"{call.action} on s3://{bucket}" + (" over plain HTTP" if plain_http else ""),
        principal=principal,
        service="s3",
        invoke=lambda s3: call.invoke(s3, bucket),
        intent=Intent(
            principal,
            call.action,
            f"arn:aws:s3:::{bucket}",
            {"aws:SecureTransport": str(not plain_http).lower()},
            resource_account=world.bucket_account,
        ),
        plain_http=plain_http,
    )


def tls_cells(world: World) -> Iterator[Cell]:
    """Requests without TLS, on objects (each writer's put, each reader's get) and on the
    bucket itself (A's deployer), refused by the bucket policy; the same over TLS allowed."""
    for row, folder in _writers(world):
        put = PUTS[0]
        yield _tls_cell(
            row.name,
            "put",
            _put_call(world, row, folder, put, _this_key(world), plain_http=True),
            _put_call(world, row, folder, put, _this_key(world)),
        )
    for row in rows(world):
        for label in world.allowlist.objects:
            if row.allows("bucket", "s3:GetObject", label):
                secure = object_call(world, row.arn, "s3:GetObject", label)
                plain = Call(
                    label=secure.label + " over plain HTTP",
                    principal=secure.principal,
                    service="s3",
                    invoke=secure.invoke,
                    intent=Intent(
                        secure.intent.principal,
                        secure.intent.action,
                        secure.intent.resource,
                        {**secure.intent.context, "aws:SecureTransport": "false"},
                        resource_account=secure.intent.resource_account,
                    ),
                    plain_http=True,
                )
                yield _tls_cell(row.name, f"get {label}", plain, secure)
    deployer = world.deployers["shared-services"]
    for call in BUCKET_CALLS:
        yield _tls_cell(
            "deployer of A",
            call.column,
            _bucket_call(world, deployer, call, plain_http=True),
            _bucket_call(world, deployer, call, plain_http=False),
        )


def _tls_cell(row: str, column: str, plain: Call, secure: Call) -> Cell:
    return Cell(
        id=cell_id(row, column),
        promise=1,
        group="request without TLS",
        row=row,
        column=f"{column} over HTTP",
        call=plain,
        expected=False,
        control=secure,
        differs_in="TLS",
        refused_by=BUCKET_POLICY,
    )
