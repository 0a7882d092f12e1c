"""Services the local target runs itself behind the gateway: SageMaker training and hosting,
sagemaker-runtime, Step Functions executions and Lambda Invoke (see each module).

``LocalRuntimes`` builds them over one ``ServiceContext``; the target registers
``services()`` with its gateway and calls ``stop()`` before it closes its listeners.
"""

from __future__ import annotations

from harness.targets.local.gateway import LocalService
from harness.targets.local.services.context import ServiceContext
from harness.targets.local.services.lambda_ import Lambda
from harness.targets.local.services.sagemaker import SageMaker
from harness.targets.local.services.sagemaker_runtime import SageMakerRuntime
from harness.targets.local.services.stepfunctions import StepFunctions

__all__ = ["LocalRuntimes", "ServiceContext"]


class LocalRuntimes:
    """The runtime-backed services of one local target, and their shutdown."""

    def __init__(self, context: ServiceContext) -> None:
        self.context = context
        self.sagemaker = SageMaker(context)
        self.stepfunctions = StepFunctions(context)
        self.lambda_ = Lambda(context)
        self._services: dict[str, LocalService] = {
            "sagemaker": self.sagemaker,
            "sagemaker-runtime": SageMakerRuntime(self.sagemaker),
            "stepfunctions": self.stepfunctions,
            "lambda": self.lambda_,
        }

    def services(self) -> dict[str, LocalService]:
        """By botocore service name, for ``Gateway(services=...)``."""
        return dict(self._services)

    def stop(self, bound_s: float | None = None) -> list[str]:
        """Abort executions, then wait for background work, then stop jobs, endpoints and
        functions' warm environments, each within the bound; the workers still running."""
        self.stepfunctions.stop()
        stuck = self.context.join(bound_s)
        stuck += self.sagemaker.stop(bound_s)
        self.lambda_.stop()
        return stuck
