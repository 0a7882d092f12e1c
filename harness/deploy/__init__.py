"""Deploy the three-account pipeline onto a target, and tear it down again.

Target-agnostic: only the :class:`~harness.targets.Target` interface and boto3 are used, so the
same code deploys onto the embedded ``local`` target and onto real accounts.
"""

from harness.deploy.deploy import DeployError, Deployment, adopt, deploy
from harness.deploy.settings import Settings
from harness.deploy.teardown import teardown
from harness.targets.registry import TARGETS, make_target

__all__ = [
    "TARGETS",
    "DeployError",
    "Deployment",
    "Settings",
    "adopt",
    "deploy",
    "make_target",
    "teardown",
]
