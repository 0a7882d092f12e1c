"""CKV_XACCT_001: bucket default encryption must be SSE-KMS under a customer-managed key.

The original used AES256 defaults while its bucket policy demanded aws:kms, so the pipeline's
own writes were denied.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from checkov.common.models.enums import CheckCategories
from xacct_check_base import XacctCheck

from harness.gate.cfn_values import as_list, render

_KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


class BucketEncryptionNotKmsCustomerKey(XacctCheck):
    def __init__(self) -> None:
        super().__init__(
            resources=["AWS::S3::Bucket"],
            category=CheckCategories.ENCRYPTION,
        )

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterator[str]:
        encryption = properties.get("BucketEncryption")
        rules = (
            as_list(encryption.get("ServerSideEncryptionConfiguration"))
            if isinstance(encryption, dict)
            else []
        )
        if not rules:
            yield "BucketEncryption: missing (S3 then defaults to AES256)"
        for index, rule in enumerate(rules):
            default = rule.get("ServerSideEncryptionByDefault") if isinstance(rule, dict) else None
            where = f"BucketEncryption.ServerSideEncryptionConfiguration[{index}]"
            if not isinstance(default, dict):
                yield f"{where}: no ServerSideEncryptionByDefault"
                continue
            algorithm = render(default.get("SSEAlgorithm", ""))
            if algorithm not in _KMS_ALGORITHMS:
                yield f"{where}.SSEAlgorithm: {algorithm}"
            elif not default.get("KMSMasterKeyID"):
                yield f"{where}.KMSMasterKeyID: missing (AWS managed aws/s3 key)"


check = BucketEncryptionNotKmsCustomerKey()
