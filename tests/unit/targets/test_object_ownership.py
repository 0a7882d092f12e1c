"""S3 Object Ownership on the local target: with BucketOwnerEnforced, ACLs other than
bucket-owner-full-control are refused with AccessControlListNotSupported.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(workdir=tmp_path_factory.mktemp("ownership")) as started:
        yield started


def test_bucket_owner_enforced_refuses_acls(target: LocalTarget) -> None:
    s3 = target.client("s3", target.session("shared-services"))
    s3.create_bucket(Bucket="enforced")
    s3.put_bucket_ownership_controls(
        Bucket="enforced",
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )
    for refused in (
        lambda: s3.put_object(Bucket="enforced", Key="k", Body=b"x", ACL="public-read"),
        lambda: s3.put_object_acl(Bucket="enforced", Key="k", ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket="enforced", ACL="authenticated-read"),
    ):
        with pytest.raises(ClientError) as raised:
            refused()
        assert raised.value.response["Error"]["Code"] == "AccessControlListNotSupported"
    # the controls: no ACL, or the bucket owner's full control, and reading ACLs
    s3.put_object(Bucket="enforced", Key="k", Body=b"x")
    s3.put_object(Bucket="enforced", Key="k", Body=b"x", ACL="bucket-owner-full-control")
    s3.get_object_acl(Bucket="enforced", Key="k")
    # and a bucket without the setting still takes ACLs
    s3.create_bucket(Bucket="acls")
    s3.put_object(Bucket="acls", Key="k", Body=b"x", ACL="public-read")
