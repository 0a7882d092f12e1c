"""What the local target's own services need from it, and the background work they start.

A runtime acts as a role that an AWS service principal assumed (SageMaker for a job's or a
model's execution role, Step Functions for a state machine's role, Lambda for a function's
role): the target decides that ``sts:AssumeRole`` against the role's trust policy, and the
runtime then reaches AWS through the target's HTTPS endpoint, so the gateway decides every
call it makes. Threads started here are ended by ``stop`` (the target's own stop).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3

from harness.deadlines import Workers
from harness.runtimes.aws import AwsAccess
from harness.targets.local.faults import Fault
from harness.targets.local.services.wire import Answer, WsgiApp, forward

# (role ARN, service principal) -> a session for the role; PermissionError when its trust
# policy does not let that service assume it.
AssumeAsService = Callable[[str, str], boto3.Session]


class ServiceContext:
    """Role access for runtimes, moto behind the gateway, and tracked background threads."""

    def __init__(
        self,
        assume_as_service: AssumeAsService,
        endpoint_url: Callable[[], str],
        ca_bundle: Callable[[], str],
        backend: WsgiApp,
        fault: Fault | None = None,
    ) -> None:
        self.fault = fault or Fault()  # a drill's, put into the runtimes it names
        self._assume = assume_as_service
        self._endpoint_url = endpoint_url
        self._ca_bundle = ca_bundle
        self._backend = backend
        self._workers = Workers("runtime")

    def access(self, role_arn: str, service: str) -> AwsAccess:
        """``role_arn`` as AWS service ``service`` assumes it, pointed at the gateway.

        Raises PermissionError (with the trust decision's reason) when it may not."""
        return AwsAccess(self._assume(role_arn, service), self._endpoint_url(), self._ca_bundle())

    def forward(self, environ: dict[str, Any]) -> Answer:
        """moto's answer to an authorized request (it validates and stores the record)."""
        return forward(self._backend, environ)

    def background(self, name: str, work: Callable[[], None]) -> threading.Thread:
        """Run ``work`` in a thread that ``join`` waits for."""
        return self._workers.start(name, work)

    def join(self, bound_s: float | None = None) -> list[str]:
        """Wait for every background thread within the bound; the names of those stuck."""
        return self._workers.join(bound_s)
