"""The embedded ``local`` target: moto in-process behind our enforcement gateway."""

from harness.targets.deployer import DEPLOYER_ROLE
from harness.targets.local.target import DEFAULT_ACCOUNTS, LocalTarget

__all__ = ["DEFAULT_ACCOUNTS", "DEPLOYER_ROLE", "LocalTarget"]
