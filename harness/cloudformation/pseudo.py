"""Pseudo parameters, with partition and URL suffix taken from botocore's endpoint data."""

from __future__ import annotations

import re
from typing import Any

from harness.service_models import partitions


def partition_of(region: str) -> dict[str, Any]:
    """The botocore partition record a region belongs to (aws, aws-cn, aws-us-gov, ...)."""
    for partition in partitions():
        if region in partition.get("regions", {}) or re.match(partition["regionRegex"], region):
            return partition
    return partitions()[0]


def pseudo_parameters(
    account_id: str, region: str, stack_name: str, stack_id: str
) -> dict[str, Any]:
    """Values of the `AWS::*` pseudo parameters except `AWS::NoValue` (handled by the evaluator)."""
    partition = partition_of(region)
    return {
        "AWS::AccountId": account_id,
        "AWS::Region": region,
        "AWS::Partition": partition["partition"],
        "AWS::URLSuffix": partition["dnsSuffix"],
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
        "AWS::NotificationARNs": [],
    }
