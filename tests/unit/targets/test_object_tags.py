"""Object-tag condition keys on the local target: ``s3:ExistingObjectTag/<key>`` from the
stored object's tags, ``s3:RequestObjectTag/<key>`` and ``s3:RequestObjectTagKeys`` from the
tags a request sets (the ``x-amz-tagging`` header, PutObjectTagging's body).

S3 user guide, "Tagging and access control policies"
https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html (examples 1-3).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget
from tests.unit.targets.roles import deployer_role

A = "shared-services"
BUCKET = "tagged-objects"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(workdir=tmp_path_factory.mktemp("object-tags")) as started:
        started.client("s3", started.session(A)).create_bucket(Bucket=BUCKET)
        yield started


def _s3_as(target: LocalTarget, name: str, statement: dict[str, Any]) -> Any:
    """An S3 client of a new role of A whose only permission is ``statement``."""
    role = deployer_role(target, A, name, [{"Effect": "Allow", **statement}])
    return target.client("s3", target.session(A, role))


def _denied(call: Any) -> None:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == "AccessDenied"


def test_existing_object_tag_decides_reads(target: LocalTarget) -> None:
    """Example 1: read only objects tagged environment=production."""
    owner = target.client("s3", target.session(A))
    owner.put_object(Bucket=BUCKET, Key="prod", Body=b"p", Tagging="environment=production")
    owner.put_object(Bucket=BUCKET, Key="dev", Body=b"d", Tagging="environment=dev")
    reader = _s3_as(
        target,
        "reads-production",
        {
            "Action": ["s3:GetObject", "s3:GetObjectTagging"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/environment": "production"}},
        },
    )
    assert reader.get_object(Bucket=BUCKET, Key="prod")["Body"].read() == b"p"
    _denied(lambda: reader.get_object(Bucket=BUCKET, Key="dev"))
    _denied(lambda: reader.get_object_tagging(Bucket=BUCKET, Key="dev"))
    # the tags as stored now decide: retagged, the same read passes
    owner.put_object_tagging(
        Bucket=BUCKET,
        Key="dev",
        Tagging={"TagSet": [{"Key": "environment", "Value": "production"}]},
    )
    assert reader.get_object(Bucket=BUCKET, Key="dev")["Body"].read() == b"d"


def test_request_object_tags_decide_what_a_put_may_set(target: LocalTarget) -> None:
    """Examples 2 and 3: which tag keys, and which value of a tag, a writer may set."""
    writer = _s3_as(
        target,
        "writes-team-ml",
        {
            "Action": ["s3:PutObject", "s3:PutObjectTagging"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
            "Condition": {
                "StringEquals": {"s3:RequestObjectTag/team": "ml"},
                "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "stage"]},
            },
        },
    )
    writer.put_object(Bucket=BUCKET, Key="w", Body=b"x", Tagging="team=ml&stage=dev")
    _denied(lambda: writer.put_object(Bucket=BUCKET, Key="w", Body=b"x", Tagging="team=web"))
    _denied(lambda: writer.put_object(Bucket=BUCKET, Key="w", Body=b"x", Tagging="team=ml&x=1"))
    _denied(lambda: writer.put_object(Bucket=BUCKET, Key="w", Body=b"x"))  # no team tag
    writer.put_object_tagging(
        Bucket=BUCKET, Key="w", Tagging={"TagSet": [{"Key": "team", "Value": "ml"}]}
    )
    _denied(
        lambda: writer.put_object_tagging(
            Bucket=BUCKET, Key="w", Tagging={"TagSet": [{"Key": "team", "Value": "web"}]}
        )
    )
