"""S3 Object Ownership: a bucket whose owner is enforced (``BucketOwnerEnforced``) has ACLs
disabled, so a request that sets an ACL other than ``bucket-owner-full-control`` fails with
400 ``AccessControlListNotSupported``; reading ACLs still works.

S3 user guide, "Troubleshooting" Object Ownership
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html).
Doubtful: that PutBucketAcl/PutObjectAcl naming ``bucket-owner-full-control`` pass, as PUTs of
objects do (the guide says requests to set ACLs fail, and PUTs may name that ACL).
"""

from __future__ import annotations

from harness.gateway.operations import OperationCall
from harness.targets.local import moto_state

_SETS_ACL = frozenset(
    {"PutObject", "CopyObject", "CreateMultipartUpload", "PutObjectAcl", "PutBucketAcl"}
)
_GRANTS = ("GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")
_OWNER_FULL_CONTROL = "bucket-owner-full-control"
MESSAGE = "The bucket does not allow ACLs"


def acl_refused(call: OperationCall) -> bool:
    """Does ``call`` set an ACL on a bucket whose ACLs are disabled?"""
    if call.signing_name != "s3" or call.operation not in _SETS_ACL:
        return False
    if moto_state.bucket_object_ownership(str(call.params.get("Bucket", ""))) != (
        "BucketOwnerEnforced"
    ):
        return False
    params = call.params
    acl = params.get("ACL")
    return (
        (acl is not None and acl != _OWNER_FULL_CONTROL)
        or any(params.get(grant) for grant in _GRANTS)
        or bool(params.get("AccessControlPolicy"))
    )
