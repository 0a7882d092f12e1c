"""Pair each authorization request of the gateway's mapper with the resource-side policy
that governs it, read from moto's state: the bucket policy for S3, the key policy and grants
for KMS (``resource_kind="kms-key"``: the key policy must allow), the trust policy for
AssumeRole, the function policy for Lambda. Also the key state, which refuses cryptographic
use of a disabled key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.gateway.authz_map import AuthzCall
from harness.policy.evaluate import ResourceKind
from harness.policy.grants import CONTEXT_OPERATIONS, Grant
from harness.targets.local import moto_state

_S3_ARN = "arn:aws:s3:::"
_LAMBDA_FUNCTION_ARN = "arn:aws:lambda:"
# What a role's trust policy decides: assuming it, and tagging or naming the session.
_TRUST_ACTIONS = frozenset({"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"})


@dataclass(frozen=True)
class Check:
    """One authorization request with everything the policy engine needs besides identity."""

    call: AuthzCall
    resource_account: str
    resource_policy: str | None = None
    resource_kind: ResourceKind = "generic"
    grants: tuple[Grant, ...] = ()  # the key's grants, weighed after the policies
    creating: Grant | None = None  # for CreateGrant: the grant asked for
    key_state: str | None = None  # for a KMS key: Enabled, Disabled, PendingDeletion, ...

    def key_state_error(self) -> tuple[str, str] | None:
        """The error code and message AWS KMS answers a cryptographic call on a key that is
        not enabled with; S3, calling KMS for the caller, prefixes the code with ``KMS.``.

        Key states, https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html:
        Disabled -> DisabledException, PendingDeletion -> KMSInvalidStateException. S3's
        ``KMS.``-prefixed codes are doubtful: S3's error-code list does not document them.
        """
        operation = self.call.action.split(":", 1)[-1].lower()
        if self.key_state in (None, "Enabled") or operation not in _CRYPTOGRAPHIC:
            return None
        if self.key_state == "Disabled":
            code, message = "DisabledException", f"{self.call.resource} is disabled."
        else:
            state = "pending deletion" if self.key_state == "PendingDeletion" else self.key_state
            code, message = "KMSInvalidStateException", f"{self.call.resource} is {state}."
        return ("KMS." + code if self.call.on_behalf_of else code), message


_CRYPTOGRAPHIC = CONTEXT_OPERATIONS | {
    "sign",
    "verify",
    "generatemac",
    "verifymac",
    "derivesharedsecret",
}


def _account_of(arn: str, default: str) -> str:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4].isdigit() else default


def aws_managed_s3_key_policy(account_id: str, region: str) -> str:
    """The policy AWS gives the ``aws/s3`` managed key: any principal of the account may use
    it through S3, and the account may read its metadata."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Allow access through S3 for all principals in the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": account_id,
                            "kms:ViaService": f"s3.{region}.amazonaws.com",
                        }
                    },
                },
                {
                    "Sid": "Allow direct access to key metadata to the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                    "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                    "Resource": "*",
                },
            ],
        }
    )


def check_for(
    call: AuthzCall, caller_account: str, region: str, params: Mapping[str, Any] | None = None
) -> Check:
    """The :class:`Check` for ``call`` made by a principal of ``caller_account``; ``params``,
    the API call's own parameters, name the grant a KMS grant operation is about."""
    resource = call.resource
    if call.action in _TRUST_ACTIONS and ":role/" in resource:
        return trust_check(call)
    if resource.startswith(_S3_ARN):
        bucket = resource.removeprefix(_S3_ARN).split("/", 1)[0]
        owner = moto_state.bucket_account(bucket) or caller_account
        return Check(call, owner, moto_state.bucket_policy(bucket))
    if resource.startswith("arn:aws:kms:"):
        return _kms_check(call, caller_account, region, params or {})
    if resource.startswith(_LAMBDA_FUNCTION_ARN):
        # Lambda developer guide, "Using resource-based policies in Lambda"
        # (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html).
        account = _account_of(resource, caller_account)
        return Check(call, account, moto_state.lambda_function_policy(resource))
    return Check(call, _account_of(resource, caller_account))


def trust_check(call: AuthzCall) -> Check:
    """``sts:AssumeRole`` (or TagSession, SetSourceIdentity) of the role ``call.resource``:
    its trust policy must allow."""
    role = moto_state.role_policies(call.resource)
    trust = role.trust if role is not None else None
    return Check(call, call.resource.split(":")[4], trust, "role-trust")


def _kms_check(
    call: AuthzCall, caller_account: str, region: str, params: Mapping[str, Any]
) -> Check:
    resource = call.resource
    account = _account_of(resource, caller_account)
    if resource.endswith(":" + moto_state.AWS_MANAGED_S3_KEY):
        return Check(call, account, aws_managed_s3_key_policy(account, region), "kms-key")
    key = moto_state.kms_key(resource, region, caller_account) if ":key/" in resource else None
    if key is not None and call.action == "kms:RetireGrant":
        # The grant decides who may retire it; else the key's account, through its IAM
        # policies alone (the key policy has no say): see harness.policy.grants.
        token, grant_id = params.get("GrantToken"), params.get("GrantId")
        retired = tuple(g for g in key.grants if grant_id and g.grant_id == grant_id)
        if token:
            found = moto_state.kms_grant_by_token(str(token))
            retired = (found[1],) if found is not None else ()
        return Check(call, key.account_id, grants=retired)
    if key is not None:
        creating = (
            Grant.from_api(key.arn, params)
            if call.action == "kms:CreateGrant" and call.on_behalf_of is None
            else None
        )
        return Check(call, key.account_id, key.policy, "kms-key", key.grants, creating, key.state)
    if call.on_behalf_of is not None and ":key/" in resource:
        # The service cannot use a key that does not exist: no key policy can allow it.
        return Check(call, account, None, "kms-key")
    # Aliases are authorized by IAM policies alone; a missing key is moto's NotFound to give.
    return Check(call, account)
