"""Pseudo parameters, with partition and URL suffix taken from botocore's endpoint data."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.loaders import create_loader


@cache
def _partitions() -> list[dict[str, Any]]:
    return create_loader().load_data("endpoints")["partitions"]


def partition_of(region: str) -> dict[str, Any]:
    """The botocore partition record a region belongs to (aws, aws-cn, aws-us-gov, ...)."""
    for partition in _partitions():
        if region in partition.get("regions", {}) or re.match(partition["regionRegex"], region):
            return partition
    return _partitions()[0]


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
