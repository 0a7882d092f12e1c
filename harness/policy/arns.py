"""Resources whose policies AWS evaluates by their own rule (see ``evaluate``'s
``resource_kind``): a KMS key's policy must allow the caller, directly or by delegating to
the account; an IAM role's resource policy is its trust policy."""

from __future__ import annotations

import re

_KMS_KEY = re.compile(r"arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+\Z")
_IAM_ROLE = re.compile(r"arn:[\w-]+:iam::\d{12}:role/.+\Z")


def is_kms_key(arn: str) -> bool:
    """A KMS key ARN (not an alias: aliases are authorized by IAM policies alone)."""
    return _KMS_KEY.match(arn) is not None


def is_iam_role(arn: str) -> bool:
    return _IAM_ROLE.match(arn) is not None
