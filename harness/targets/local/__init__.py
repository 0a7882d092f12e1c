"""The embedded ``local`` target: moto in-process behind our enforcement gateway."""

from harness.targets.local.target import DEFAULT_ACCOUNTS, DEPLOYER_ROLE, LocalTarget

__all__ = ["DEFAULT_ACCOUNTS", "DEPLOYER_ROLE", "LocalTarget"]
