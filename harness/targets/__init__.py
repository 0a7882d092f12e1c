"""Targets: the kinds of AWS the same checks run on (DESIGN.md section 3)."""

from harness.targets.base import ACCOUNT_ROLES, OUTSIDER, Capability, StackFailed, Target

__all__ = ["ACCOUNT_ROLES", "OUTSIDER", "Capability", "StackFailed", "Target"]
