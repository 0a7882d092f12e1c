"""Registry of resource providers by CloudFormation type name (one module per type)."""

from __future__ import annotations

from harness.cloudformation.providers import (
    codecommit_repository,
    iam_managed_policy,
    iam_policy,
    iam_role,
    kms_alias,
    kms_key,
    lambda_function,
    logs_log_group,
    s3_bucket,
    s3_bucket_policy,
    stepfunctions_state_machine,
)
from harness.cloudformation.providers.base import Provider

PROVIDERS: dict[str, Provider] = {
    module.PROVIDER.type_name: module.PROVIDER
    for module in (
        codecommit_repository,
        iam_managed_policy,
        iam_policy,
        iam_role,
        kms_alias,
        kms_key,
        lambda_function,
        logs_log_group,
        s3_bucket,
        s3_bucket_policy,
        stepfunctions_state_machine,
    )
}


def provider_for(type_name: str) -> Provider | None:
    """The provider of `type_name`, or None if the local engine cannot create that type."""
    return PROVIDERS.get(type_name)
