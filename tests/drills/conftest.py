"""Drills run whole compliance runs on the local target, offline like the unit tests: the same
fake credentials and loopback-only socket guard (a drill's subprocess inherits the environment).
"""

from __future__ import annotations

from tests.unit.conftest import offline_aws

__all__ = ["offline_aws"]
