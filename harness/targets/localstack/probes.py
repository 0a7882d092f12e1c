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

from harness.targets.base import Capability, StackFailed, Target
from harness.targets.sessions import session_from

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

    def __init__(self, target: Target) -> None:
        self.target = target
        self.accounts = target.accounts
        self.deployer = target.session
        self.client = target.client
        self.suffix = uuid.uuid4().hex[:8]
        self.cleanup = ExitStack()
        self._roles = 0

    def root_arn(self, account: str) -> str:
        return f"arn:aws:iam::{self.accounts[account]}:root"

    def role(self, account: str, trusted_account: str, policy: dict[str, Any] | None) -> str:
        """A role in ``account`` trusting ``trusted_account``'s root, with an optional inline
        policy; returns its ARN."""
        iam = self.client("iam", self.deployer(account))
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
        """``role_arn`` assumed by the target's deployer in ``by_account``."""
        caller = self.deployer(by_account)
        sts = self.client("sts", caller)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="probe")["Credentials"]
        return session_from(credentials, caller.region_name)

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
    s3_owner = p.client("s3", p.deployer("shared-services"))
    bucket = f"harness-probe-{p.suffix}"
    s3_owner.create_bucket(Bucket=bucket)
    p.cleanup.callback(s3_owner.delete_bucket, Bucket=bucket)
    p.cleanup.callback(_empty_bucket, s3_owner, bucket)
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
    s3_owner.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
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
    kms = p.client("kms", p.deployer("shared-services"))
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
    key = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
    key_arn = key["Arn"]
    p.cleanup.callback(kms.schedule_key_deletion, KeyId=key["KeyId"], PendingWindowInDays=7)

    def encrypt(account: str) -> Callable[[], object]:
        client = p.client("kms", p.admin(account))
        return lambda: client.encrypt(KeyId=key_arn, Plaintext=b"x")

    refused = denied(encrypt("training"))
    served = not denied(encrypt("shared-services"))
    return refused and served, f"other account refused: {refused}; own account served: {served}"


def probe_template_settings(p: Probe) -> tuple[bool, str]:
    """A stack's bucket encryption, public access block, versioning and policy, and its key's
    policy and rotation, read back as the template wrote them."""
    name = f"harness-probe-{p.suffix}"
    outputs = p.target.deploy_stack("shared-services", name, json.dumps(_SETTINGS_STACK), {})
    p.cleanup.callback(p.target.destroy_stack, "shared-services", name)
    session = p.deployer("shared-services")
    s3, kms = p.client("s3", session), p.client("kms", session)
    bucket, key = outputs["Bucket"], outputs["Key"]  # the bucket stays empty: the stack deletes it
    readers: dict[str, Callable[[], bool]] = {
        "bucket encryption": lambda: (
            s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][
                0
            ]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
            == "aws:kms"
        ),
        "public access block": lambda: all(
            s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()
        ),
        "versioning": lambda: s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled",
        "bucket policy": lambda: (
            json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Sid"]
            == "DenyUnencryptedPuts"
        ),
        "key policy": lambda: (
            json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])["Statement"][
                0
            ]["Sid"]
            == "KeyAdministration"
        ),
        "key rotation": lambda: kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"],
    }
    seen = {}
    for setting, read in readers.items():
        try:
            seen[setting] = bool(read())
        except ClientError:  # e.g. "no encryption configuration": not applied
            seen[setting] = False
    return all(seen.values()), "; ".join(f"{k} as written: {v}" for k, v in seen.items())


_SETTINGS_STACK: dict[str, Any] = {
    "Resources": {
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "EnableKeyRotation": True,
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "KeyAdministration",
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}
                            },
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                },
            },
        },
        "Data": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "VersioningConfiguration": {"Status": "Enabled"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]},
                            }
                        }
                    ]
                },
            },
        },
        "DataPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Data"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyUnencryptedPuts",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:PutObject",
                            "Resource": {"Fn::Sub": "${Data.Arn}/*"},
                            "Condition": {
                                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}
                            },
                        }
                    ],
                },
            },
        },
    },
    "Outputs": {"Bucket": {"Value": {"Ref": "Data"}}, "Key": {"Value": {"Ref": "Key"}}},
}


PROBES: Mapping[Capability, Callable[[Probe], tuple[bool, str]]] = {
    Capability.ENFORCES_IDENTITY_POLICY: probe_identity_policy,
    Capability.ENFORCES_TRUST_POLICY: probe_trust_policy,
    Capability.ENFORCES_BUCKET_POLICY: probe_bucket_policy,
    Capability.ENFORCES_KEY_POLICY: probe_key_policy,
    Capability.APPLIES_TEMPLATE_SETTINGS: probe_template_settings,
}
"""The enforcement capabilities an emulator can earn, each with the probe that measures it."""


def measure(target: Target) -> list[ProbeResult]:
    """Run every probe; a probe (or its cleanup) that errors counts as not enforced, with the
    error as detail."""
    results = []
    for capability, probe in PROBES.items():
        state = Probe(target)
        try:
            with state.cleanup:
                enforced, detail = probe(state)
        except (ClientError, StackFailed) as error:
            enforced, detail = False, f"probe failed: {error}"
        results.append(ProbeResult(capability, enforced, detail))
    return results


def _empty_bucket(s3: BaseClient, bucket: str) -> None:
    for item in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
