"""CKV_XACCT_006: the bucket policy must deny non-TLS requests to the bucket AND its objects.

The original denied aws:SecureTransport=false on ``bucket/*`` only, so bucket-level calls
(ListBucket, GetBucketPolicy, PutBucketPolicy, ...) still worked over plain HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.cfn_values import as_list, is_token, render
from harness.gate.iam import resources, statements


def _denies_plain_http(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition")
    if statement.get("Effect") != "Deny" or not isinstance(condition, dict):
        return False
    for operator in ("Bool", "BoolIfExists"):
        clauses = condition.get(operator)
        if isinstance(clauses, dict):
            for key, value in clauses.items():
                if key.lower() == "aws:securetransport" and render(value).lower() == "false":
                    return True
    return False


def _covers_all_s3_actions(statement: dict[str, Any]) -> bool:
    return any(render(a) in ("*", "s3:*") for a in as_list(statement.get("Action")))


def _coverage(resource: str) -> set[str]:
    if resource == "*":
        return {"bucket", "objects"}
    if resource.endswith("/*"):
        return {"objects"}
    if is_token(resource) or (":s3:::" in resource and "/" not in resource):
        return {"bucket"}
    return set()


class TlsDenyIncomplete(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::S3::BucketPolicy"],
            category=CheckCategories.ENCRYPTION,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        tls_denials = [
            s
            for s in statements(properties.get("PolicyDocument"))
            if _denies_plain_http(s) and _covers_all_s3_actions(s)
        ]
        covered = {part for s in tls_denials for r in resources(s) for part in _coverage(r)}
        if not tls_denials:
            yield "PolicyDocument: no Deny of s3:* when aws:SecureTransport is false"
            return
        for part in sorted({"bucket", "objects"} - covered):
            yield f"PolicyDocument: insecure-transport deny does not cover the {part}"


check = TlsDenyIncomplete()
