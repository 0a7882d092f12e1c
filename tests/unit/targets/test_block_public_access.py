"""S3 Block Public Access on the local target, at bucket and account level.

S3 user guide, "Blocking public access to your Amazon S3 storage"
https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html;
the settings as the API documents them
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html (bucket)
and https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_PublicAccessBlockConfiguration.html
(account). What "public" means is tested in tests/unit/policy/test_public.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget

A, B = "shared-services", "training"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(workdir=tmp_path_factory.mktemp("public-access")) as started:
        yield started


def _policy(bucket: str, sid: str, principal: str | dict[str, str]) -> str:
    """A bucket policy letting ``principal`` read the bucket's objects."""
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _public_read(bucket: str) -> str:
    return _policy(bucket, "Everyone", "*")


def _read_by_account(bucket: str, account: str) -> str:
    return _policy(bucket, "Training", {"AWS": f"arn:aws:iam::{account}:root"})


def _bucket(target: LocalTarget, name: str, **settings: bool) -> Any:
    s3 = target.client("s3", target.session(A))
    s3.create_bucket(Bucket=name)
    if settings:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=settings)
    return s3


def _denied(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    return str(raised.value)


def _last(target: LocalTarget, action: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = target.decision_log.entries()
    return next(e for e in reversed(entries) if e["action"] == action)


def test_block_public_policy_refuses_a_public_bucket_policy(target: LocalTarget) -> None:
    s3 = _bucket(target, "bpa-policy", BlockPublicPolicy=True)
    message = _denied(
        lambda: s3.put_bucket_policy(Bucket="bpa-policy", Policy=_public_read("bpa-policy"))
    )
    assert "BlockPublicPolicy (bucket level)" in message
    assert _last(target, "s3:PutBucketPolicy")["reason"].endswith("[decided by: AWS rule]")
    # the control: a policy naming one account is not public, and is taken
    s3.put_bucket_policy(
        Bucket="bpa-policy", Policy=_read_by_account("bpa-policy", target.account_id(B))
    )
    # and a bucket without the setting takes the public one
    _bucket(target, "bpa-open").put_bucket_policy(
        Bucket="bpa-open", Policy=_public_read("bpa-open")
    )


def test_the_account_level_setting_covers_every_bucket_of_the_account(target: LocalTarget) -> None:
    account = target.account_id(B)
    s3control = target.client("s3control", target.session(B))
    s3 = target.client("s3", target.session(B))
    s3.create_bucket(Bucket="bpa-account")
    s3.put_bucket_policy(Bucket="bpa-account", Policy=_public_read("bpa-account"))  # control
    s3control.put_public_access_block(
        AccountId=account, PublicAccessBlockConfiguration={"BlockPublicPolicy": True}
    )
    assert _last(target, "s3:PutAccountPublicAccessBlock")["resource"] == "*"
    try:
        message = _denied(
            lambda: s3.put_bucket_policy(Bucket="bpa-account", Policy=_public_read("bpa-account"))
        )
        assert f"BlockPublicPolicy (account level of {account})" in message
        s3control.put_public_access_block(
            AccountId=account, PublicAccessBlockConfiguration={"BlockPublicAcls": True}
        )
        message = _denied(lambda: s3.create_bucket(Bucket="bpa-new", ACL="public-read"))
        assert f"BlockPublicAcls (account level of {account})" in message
        s3.create_bucket(Bucket="bpa-new")  # the control: no ACL
        got = s3control.get_public_access_block(AccountId=account)
        assert got["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True
    finally:
        s3control.delete_public_access_block(AccountId=account)
    s3.put_bucket_policy(Bucket="bpa-account", Policy=_public_read("bpa-account"))


def test_block_public_acls_refuses_public_acls(target: LocalTarget) -> None:
    s3 = _bucket(target, "bpa-acls", BlockPublicAcls=True)
    s3.put_object(Bucket="bpa-acls", Key="k", Body=b"x")
    owner = s3.get_object_acl(Bucket="bpa-acls", Key="k")["Owner"]
    acl = {
        "Owner": owner,
        "Grants": [
            {
                "Grantee": {
                    "Type": "Group",
                    "URI": "http://acs.amazonaws.com/groups/global/AllUsers",
                },
                "Permission": "READ",
            }
        ],
    }
    all_users = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'
    for refused in (
        lambda: s3.put_object(Bucket="bpa-acls", Key="k", Body=b"x", ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket="bpa-acls", GrantRead=all_users),
        lambda: s3.put_bucket_acl(Bucket="bpa-acls", ACL="authenticated-read"),
        lambda: s3.put_object_acl(Bucket="bpa-acls", Key="k", ACL="public-read"),
        lambda: s3.put_object_acl(Bucket="bpa-acls", Key="k", AccessControlPolicy=acl),
    ):
        assert "BlockPublicAcls (bucket level)" in _denied(refused)
    # the controls: a private ACL, no ACL, and a public ACL on a bucket without the setting
    s3.put_object(Bucket="bpa-acls", Key="k", Body=b"x", ACL="private")
    s3.put_object_acl(Bucket="bpa-acls", Key="k", ACL="private")
    _bucket(target, "bpa-acls-open").put_object(
        Bucket="bpa-acls-open", Key="k", Body=b"x", ACL="public-read"
    )


def test_restrict_public_buckets_keeps_a_public_policy_to_the_owner(target: LocalTarget) -> None:
    s3 = _bucket(target, "bpa-restrict")
    s3.put_object(Bucket="bpa-restrict", Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket="bpa-restrict", Policy=_public_read("bpa-restrict"))
    reader = target.client("s3", target.session(B))
    assert reader.get_object(Bucket="bpa-restrict", Key="k")["Body"].read() == b"x"  # control
    s3.put_public_access_block(
        Bucket="bpa-restrict", PublicAccessBlockConfiguration={"RestrictPublicBuckets": True}
    )
    message = _denied(lambda: reader.get_object(Bucket="bpa-restrict", Key="k"))
    assert "RestrictPublicBuckets (bucket level)" in message and "Everyone" in message
    logged = _last(target, "s3:GetObject")
    assert logged["decision"] == "deny" and logged["lacking"] == ["rule"]
    # the owner's account still reads; a policy that is not public is not restricted
    assert s3.get_object(Bucket="bpa-restrict", Key="k")["Body"].read() == b"x"
    s3.put_bucket_policy(
        Bucket="bpa-restrict", Policy=_read_by_account("bpa-restrict", target.account_id(B))
    )
    assert reader.get_object(Bucket="bpa-restrict", Key="k")["Body"].read() == b"x"
