"""IAM's policy simulator on the local target, answered by the harness's policy engine
(``SimulatePrincipalPolicy``, ``SimulateCustomPolicy``; see ``api`` and ``simulation``)."""

from harness.targets.local.policy_simulator.api import PolicySimulator

__all__ = ["PolicySimulator"]
