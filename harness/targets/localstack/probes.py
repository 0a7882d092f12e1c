"""Measure the enforcement an emulator really has, instead of assuming it.

Each probe sets up a small case in the target's accounts, makes requests the policy under
test must refuse, and a control request it must allow (so an emulator that refuses
everything does not pass either). A capability is claimed only when its probe saw both.
Probe resources carry a random suffix and are removed afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.targets.base import Capability

ClientOf = Callable[[str, boto3.Session], BaseClient]
"""A client of a service for a session, with the target's endpoint settings."""
RootOf = Callable[[str], boto3.Session]
"""The root session of an account, by account role."""

_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class ProbeResult:
    capability: Capability
    enforced: bool
    detail: str


def denied(call: Callable[[], object]) -> bool:
    """Whether ``call`` is refused with an access-denied error (other errors propagate)."""
    try:
        call()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _DENIED_CODES:
            return True
        raise
    return False


class Probe:
    """Sessions per account, throwaway roles, and cleanup of what a probe created."""

    def __init__(self, accounts: Mapping[str, str], root: RootOf, client: ClientOf) -> None:
        self.accounts = accounts
        self.root = root
        self.client = client
        self.suffix = uuid.uuid4().hex[:8]
        self.cleanup = ExitStack()
        self._roles = 0

    def root_arn(self, account: str) -> str:
        return f"arn:aws:iam::{self.accounts[account]}:root"

    def role(self, account: str, trusted_account: str, policy: dict[str, Any] | None) -> str:
        """A role in ``account`` trusting ``trusted_account``'s root, with an optional inline
        policy; returns its ARN."""
        iam = self.client("iam", self.root(account))
        self._roles += 1
        name = f"harness-probe-{self.suffix}-{self._roles}"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": self.root_arn(trusted_account)},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        self.cleanup.callback(iam.delete_role, RoleName=name)
        if policy is not None:
            iam.put_role_policy(
                RoleName=name, PolicyName="probe", PolicyDocument=json.dumps(policy)
            )
            self.cleanup.callback(iam.delete_role_policy, RoleName=name, PolicyName="probe")
        return str(role["Role"]["Arn"])

    def assume(self, by_account: str, role_arn: str) -> boto3.Session:
        root = self.root(by_account)
        sts = self.client("sts", root)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="probe")["Credentials"]
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=root.region_name,
        )

    def admin(self, account: str) -> boto3.Session:
        """A session as a role of ``account`` whose own policy allows everything."""
        return self.assume(account, self.role(account, account, _ALLOW_ALL))


def probe_identity_policy(p: Probe) -> tuple[bool, str]:
    """A role without policies lists no buckets; a role allowed everything does."""
    bare = p.assume("shared-services", p.role("shared-services", "shared-services", None))
    refused = denied(lambda: p.client("s3", bare).list_buckets())
    served = not denied(lambda: p.client("s3", p.admin("shared-services")).list_buckets())
    return refused and served, f"policy-less role refused: {refused}; admin role served: {served}"


def probe_trust_policy(p: Probe) -> tuple[bool, str]:
    """A role trusting only the production account cannot be assumed from training."""
    arn = p.role("shared-services", "production", None)
    refused = denied(lambda: p.assume("training", arn))
    served = not denied(lambda: p.assume("production", arn))
    return refused and served, f"untrusted account refused: {refused}; trusted served: {served}"


def probe_bucket_policy(p: Probe) -> tuple[bool, str]:
    """A bucket policy denying unencrypted puts refuses one from an admin role of the bucket's
    own account and of a granted account, and lets their SSE-KMS puts through."""
    s3_root = p.client("s3", p.root("shared-services"))
    bucket = f"harness-probe-{p.suffix}"
    s3_root.create_bucket(Bucket=bucket)
    p.cleanup.callback(_delete_bucket, s3_root, bucket)
    objects = f"arn:aws:s3:::{bucket}/*"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": p.root_arn("training")},
                "Action": "s3:PutObject",
                "Resource": objects,
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            },
        ],
    }
    s3_root.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    seen = {}
    for account in ("shared-services", "training"):
        s3 = p.client("s3", p.admin(account))
        seen[f"{account} unencrypted refused"] = denied(
            lambda s3=s3: s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
        )
        seen[f"{account} SSE-KMS served"] = not denied(
            lambda s3=s3: s3.put_object(
                Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms"
            )
        )
    return all(seen.values()), "; ".join(f"{k}: {v}" for k, v in seen.items())


def probe_key_policy(p: Probe) -> tuple[bool, str]:
    """A key whose policy trusts only its own account refuses an admin role of another
    account (its own ``kms:*`` notwithstanding) and serves one of its own account."""
    kms = p.client("kms", p.root("shared-services"))
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": p.root_arn("shared-services")},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    key_arn = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
    p.cleanup.callback(kms.schedule_key_deletion, KeyId=key_arn, PendingWindowInDays=7)

    def encrypt(account: str) -> Callable[[], object]:
        client = p.client("kms", p.admin(account))
        return lambda: client.encrypt(KeyId=key_arn, Plaintext=b"x")

    refused = denied(encrypt("training"))
    served = not denied(encrypt("shared-services"))
    return refused and served, f"other account refused: {refused}; own account served: {served}"


PROBES: Mapping[Capability, Callable[[Probe], tuple[bool, str]]] = {
    Capability.ENFORCES_IDENTITY_POLICY: probe_identity_policy,
    Capability.ENFORCES_TRUST_POLICY: probe_trust_policy,
    Capability.ENFORCES_BUCKET_POLICY: probe_bucket_policy,
    Capability.ENFORCES_KEY_POLICY: probe_key_policy,
}
"""The enforcement capabilities an emulator can earn, each with the probe that measures it."""


def measure(accounts: Mapping[str, str], root: RootOf, client: ClientOf) -> list[ProbeResult]:
    """Run every probe; a probe (or its cleanup) that errors counts as not enforced, with the
    error as detail."""
    results = []
    for capability, probe in PROBES.items():
        state = Probe(accounts, root, client)
        try:
            with state.cleanup:
                enforced, detail = probe(state)
        except ClientError as error:
            enforced, detail = False, f"probe failed: {error}"
        results.append(ProbeResult(capability, enforced, detail))
    return results


def _delete_bucket(s3: BaseClient, bucket: str) -> None:
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    s3.delete_bucket(Bucket=bucket)
