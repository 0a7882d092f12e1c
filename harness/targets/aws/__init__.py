"""The ``aws`` target: three real accounts behind account, name, cost and time guards."""

from harness.targets.aws.guards import GuardRefused
from harness.targets.aws.settings import AccountAccess, AwsSettings, CostLimits, SettingsError
from harness.targets.aws.target import AwsTarget, ResourcesLeaked

__all__ = [
    "AccountAccess",
    "AwsSettings",
    "AwsTarget",
    "CostLimits",
    "GuardRefused",
    "ResourcesLeaked",
    "SettingsError",
]
