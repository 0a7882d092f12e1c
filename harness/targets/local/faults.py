"""Faults the reliability drills put into a local target, named by ``HARNESS_FAULT``.

Off unless the variable is set, and only the local target reads it: the ``aws`` target's
validation refuses a run with it set, so no fault can reach real accounts.

``provider-raises:<n>``     the n-th resource a stack creates fails in its provider with an
                            unexpected error (as a provider bug would), so the stack rolls back
``stack-hangs:<type>``      creating a resource of that type (``AWS::S3::Bucket``) never
                            returns, as a stuck service call would, until the target stops
``training-hangs``          a training job's algorithm process never ends (as a deadlocked
                            trainer), until the job is stopped
``endpoint-hangs``          an endpoint's container never passes its ping health check (as a
                            server stuck loading), so the endpoint stays Creating
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from harness.targets.local_environment import FAULT_VARIABLE

VARIABLE = FAULT_VARIABLE
KINDS = (
    "provider-raises:<n>",
    "stack-hangs:<resource type>",
    "training-hangs",
    "endpoint-hangs",
)
STUCK_ALGORITHM = (sys.executable, "-c", "import threading; threading.Event().wait()")
"""An algorithm process that waits forever; StopTrainingJob kills it as it kills any."""


class UnknownFault(ValueError):
    """``HARNESS_FAULT`` names no fault this target knows."""

    def __init__(self, spec: str) -> None:
        self.rule = f"must be one of {', '.join(KINDS)}"
        super().__init__(f"{VARIABLE}={spec!r}: {self.rule}")


class DrillFault(RuntimeError):
    """The error a drill puts in; anything else that fails is a real failure."""


class BeforeProvider:
    """The hook the CloudFormation engine calls before each resource's create: raises or
    hangs where the fault says. :meth:`release` ends every hang (the target's stop)."""

    def __init__(self, raise_at: int | None = None, hang_on: str | None = None) -> None:
        self.raise_at, self.hang_on = raise_at, hang_on
        self._created: dict[str, int] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()

    def __call__(self, stack: str, logical_id: str, type_name: str) -> None:
        with self._lock:
            self._created[stack] = count = self._created.get(stack, 0) + 1
        if count == self.raise_at:
            raise DrillFault(f"drill: the provider of {logical_id} raised (resource {count})")
        if type_name == self.hang_on:
            self._released.wait()
            raise DrillFault(f"drill: {logical_id} ({type_name}) hung until the target stopped")

    def release(self) -> None:
        self._released.set()


@dataclass(frozen=True)
class Fault:
    """Where the fault ``HARNESS_FAULT`` names goes in: the CloudFormation engine's hook, the
    training jobs' algorithm command, or the endpoints' health."""

    before_provider: BeforeProvider | None = None
    algorithm: tuple[str, ...] | None = None
    endpoints_healthy: bool = True

    def release(self) -> None:
        """End every hang the fault holds (the target is stopping)."""
        if self.before_provider is not None:
            self.before_provider.release()


def from_environment(environ: Mapping[str, str]) -> Fault:
    """The fault ``HARNESS_FAULT`` names (none when it is unset)."""
    spec = environ.get(VARIABLE, "")
    if not spec:
        return Fault()
    kind, _, argument = spec.partition(":")
    if kind == "provider-raises" and argument.isdigit():
        return Fault(before_provider=BeforeProvider(raise_at=int(argument)))
    if kind == "stack-hangs" and argument.startswith("AWS::"):
        return Fault(before_provider=BeforeProvider(hang_on=argument))
    if spec == "training-hangs":
        return Fault(algorithm=STUCK_ALGORITHM)
    if spec == "endpoint-hangs":
        return Fault(endpoints_healthy=False)
    raise UnknownFault(spec)
