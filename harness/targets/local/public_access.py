"""S3 Block Public Access on the local target, at bucket level (s3:PutPublicAccessBlock) and
account level (s3control PutPublicAccessBlock): the most restrictive of the two applies.

S3 user guide, "Blocking public access to your Amazon S3 storage"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html)
and the API's PublicAccessBlockConfiguration
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html):
- BlockPublicPolicy: PutBucketPolicy with a public policy is refused (403 AccessDenied);
- BlockPublicAcls: PutBucketAcl, PutObjectAcl, and PutObject/CopyObject/CreateMultipartUpload/
  CreateBucket carrying a public ACL are refused;
- RestrictPublicBuckets: while the bucket policy is public, only the owner's account and AWS
  service principals get access through it: every other caller is refused.
- IgnorePublicAcls is not modelled: the local target grants nothing through ACLs at all, so a
  public ACL is ignored with or without it.
What "public" is, is :mod:`harness.policy.public`'s. Doubtful: the refusals' message text
(AWS answers a bare "Access Denied"); that RestrictPublicBuckets leaves the owner's account's
decisions as they are ("authorized users within the bucket owner's account" keep access) and
holds a caller reaching the bucket through an AWS service with its own credentials (forward
access) to the rule, as it is not a service principal.
"""

from __future__ import annotations

from typing import Any

from harness.gateway.operations import OperationCall
from harness.policy import Decision, PolicyError, Principal
from harness.policy.principal import Kind
from harness.policy.public import is_public_acl, public_statements
from harness.targets.local import moto_state
from harness.targets.local.authorization import Check

_SETS_ACL = frozenset(
    {
        "PutObject",
        "CopyObject",
        "CreateMultipartUpload",
        "PutObjectAcl",
        "PutBucketAcl",
        "CreateBucket",
    }
)
_GRANTS = ("GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")
_DECIDED_BY = " [decided by: AWS rule]"


def _in_force(setting: str, bucket: str, account_id: str) -> str | None:
    """Where ``setting`` (BlockPublicPolicy, ...) is on for ``bucket`` of ``account_id``:
    ``bucket level`` or ``account level of <id>``; None where it is off."""
    for level, configuration in (
        ("bucket level", moto_state.bucket_public_access_block(bucket)),
        (f"account level of {account_id}", moto_state.account_public_access_block(account_id)),
    ):
        if configuration.get(setting):
            return level
    return None


def blocked(call: OperationCall, caller_account: str) -> Decision | None:
    """The refusal BlockPublicPolicy or BlockPublicAcls makes of ``call``, if any."""
    if call.service_name != "s3":
        return None
    bucket = str(call.params.get("Bucket", ""))
    account = moto_state.bucket_account(bucket) or caller_account  # CreateBucket: the caller's
    if call.operation == "PutBucketPolicy":
        level = _in_force("BlockPublicPolicy", bucket, account)
        statements = _public_statements(call.params.get("Policy")) if level else ()
        if statements:
            return _refusal(
                f"Block Public Access BlockPublicPolicy ({level}) refuses a public bucket "
                f"policy for {bucket}: statement {statements[0]} grants public access"
            )
    elif call.operation in _SETS_ACL:
        level = _in_force("BlockPublicAcls", bucket, account)
        if level and is_public_acl(call.params.get("ACL"), _grantees(call.params)):
            return _refusal(
                f"Block Public Access BlockPublicAcls ({level}) refuses a public ACL on {bucket}"
            )
    return None


def restricted(decision: Decision, principal: Principal, check: Check) -> Decision:
    """``decision``, unless RestrictPublicBuckets withdraws what a public bucket policy
    allowed a caller outside the bucket owner's account."""
    resource = check.call.resource
    if (
        not decision
        or check.resource_policy is None
        or not resource.startswith("arn:aws:s3:::")
        or principal.kind is Kind.SERVICE
        or principal.account == check.resource_account
    ):
        return decision
    bucket = resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
    level = _in_force("RestrictPublicBuckets", bucket, check.resource_account)
    statements = _public_statements(check.resource_policy) if level else ()
    if not statements:
        return decision
    return _refusal(
        f"Block Public Access RestrictPublicBuckets ({level}) limits {bucket}, whose bucket "
        f"policy is public (statement {statements[0]}), to its owner's account "
        f"{check.resource_account} and AWS services ({check.call.action} on {resource} by "
        f"{principal.arn})"
    )


def _refusal(why: str) -> Decision:
    return Decision(False, f"Denied: {why}.{_DECIDED_BY}", lacking=("rule",))


def _public_statements(policy: Any) -> tuple[str, ...]:
    if not policy:
        return ()
    try:
        return public_statements(str(policy))
    except (PolicyError, ValueError):
        return ()  # S3 refuses a malformed policy itself


def _grantees(params: dict[str, Any]) -> list[str]:
    grantees = [str(params[grant]) for grant in _GRANTS if params.get(grant)]
    policy = params.get("AccessControlPolicy") or {}
    for grant in policy.get("Grants") or ():
        grantees.append(str((grant.get("Grantee") or {}).get("URI", "")))
    return grantees
