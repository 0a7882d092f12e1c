"""The ``localstack`` target: LocalStack or LocalEmu, reachable or started in host mode."""

from harness.targets.localstack.target import FLAVOURS, LocalStackTarget, LocalStackUnavailable

__all__ = ["FLAVOURS", "LocalStackTarget", "LocalStackUnavailable"]
