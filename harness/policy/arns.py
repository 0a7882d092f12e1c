"""What a resource or principal ARN names, where that changes how IAM treats it: a KMS
key's policy must allow the caller (directly or by delegating to the account), an IAM role's
resource policy is its trust policy, and users, groups and roles hold identity policies."""

from __future__ import annotations

import re
from typing import NamedTuple

_KMS_KEY = re.compile(r"arn:[\w-]+:kms:[\w-]+:\d{12}:key/.+\Z")
_IAM_ENTITY = re.compile(r"arn:[\w-]+:iam::(\d{12}):(user|group|role)/(?:[^/]*/)*([^/]+)\Z")


class IamEntity(NamedTuple):
    account: str
    kind: str  # "user", "group" or "role"
    name: str


def is_kms_key(arn: str) -> bool:
    """A KMS key ARN (not an alias: aliases are authorized by IAM policies alone)."""
    return _KMS_KEY.match(arn) is not None


def iam_entity(arn: str) -> IamEntity | None:
    """The IAM user, group or role an ARN names (any path), or None."""
    found = _IAM_ENTITY.match(arn)
    return IamEntity(*found.groups()) if found else None


def is_iam_role(arn: str) -> bool:
    entity = iam_entity(arn)
    return entity is not None and entity.kind == "role"
