"""Offline IAM policy engine: AWS's documented authorization logic, with a reason each time.

Pure: imports only the standard library and PyYAML.
"""

from harness.policy.errors import PolicyError
from harness.policy.evaluate import Decision, Request, evaluate
from harness.policy.policy import Policy, PolicyKind, StatementRef
from harness.policy.principal import Kind, Principal

__all__ = [
    "Decision",
    "Kind",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "Principal",
    "Request",
    "StatementRef",
    "evaluate",
]
