"""Put a policy in place on the live deployment through the APIs, and read it back.

As the deployer of the account that owns the resource: PutKeyPolicy, PutBucketPolicy,
UpdateAssumeRolePolicy, PutRolePolicy (DeleteRolePolicy for an inline policy left without a
statement). :func:`mutated` restores the original afterwards, always, and verifies it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from harness.evidence.computed import FetchedPolicies, role_name
from harness.mutate.mutants import same_policy
from harness.mutate.sites import Kind, Site
from harness.targets import Target


class RestoreFailed(RuntimeError):
    """The original policy could not be put back: every later result would be wrong."""


class Refused(Exception):
    """The target refused to put the mutated policy in place; nothing was changed."""


def put_policy(target: Target, site: Site, document: Mapping[str, Any] | None) -> None:
    """Make ``document`` the policy of ``site`` (None: delete the inline policy)."""
    session = target.session(site.account_id)
    text = None if document is None else json.dumps(document)
    if site.kind is Kind.KEY:
        kms = target.client("kms", session)
        kms.put_key_policy(KeyId=site.resource, PolicyName="default", Policy=text)
    elif site.kind is Kind.BUCKET:
        target.client("s3", session).put_bucket_policy(Bucket=site.resource, Policy=text)
    elif site.kind is Kind.TRUST:
        iam = target.client("iam", session)
        iam.update_assume_role_policy(RoleName=role_name(site.resource), PolicyDocument=text)
    elif text is None:
        iam = target.client("iam", session)
        iam.delete_role_policy(RoleName=role_name(site.resource), PolicyName=site.policy_name)
    else:
        iam = target.client("iam", session)
        iam.put_role_policy(
            RoleName=role_name(site.resource), PolicyName=site.policy_name, PolicyDocument=text
        )
    time.sleep(target.policy_propagation_seconds)


def read_policy(target: Target, site: Site) -> dict[str, Any] | None:
    """``site``'s policy as the target holds it now (None: there is none)."""
    fetched = FetchedPolicies(target)
    if site.kind is Kind.KEY:
        return fetched.key_policy(site.resource)
    if site.kind is Kind.BUCKET:
        return fetched.bucket_policy(site.resource, site.account_id)
    if site.kind is Kind.TRUST:
        return fetched.trust(site.resource)
    return fetched.inline(site.resource).get(site.policy_name)


@contextmanager
def mutated(
    target: Target,
    site: Site,
    original: Mapping[str, Any],
    document: Mapping[str, Any] | None,
) -> Iterator[None]:
    """``document`` in place of ``original`` within the block; the original put back after
    (also on failure or Ctrl-C) and read back: :class:`RestoreFailed` if it is not there.
    :class:`Refused` if the target refuses the mutated policy."""
    try:
        put_policy(target, site, document)
    except ClientError as error:
        raise Refused(f"{error.response['Error']['Code']}: {error}") from error
    try:
        yield
    finally:
        try:
            put_policy(target, site, original)
            restored = read_policy(target, site)
        except ClientError as error:
            raise RestoreFailed(f"{site.name}: the original cannot be put back: {error}") from error
        if not same_policy(restored, original):
            raise RestoreFailed(
                f"{site.name}: after restoring, the target holds {json.dumps(restored)}, "
                f"not the original {json.dumps(original)}"
            )
