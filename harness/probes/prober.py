"""Make the cells' requests on a target, once each, and explain every outcome.

Requests are made as each principal really gets its credentials (see
:class:`~harness.deploy.principals.PrincipalSessions`); each outcome is explained by the target's
decision log where it keeps one, else computed (:mod:`harness.evidence.explain`). A cell whose
row is a role of the deployment is also probed from the resource side: an admin-like identity
policy is attached to the role for one batch of all that role's requests, then removed again,
so that a key, bucket or trust policy granting too much shows even where today's identity
policy hides it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from harness.deploy.deploy import CANARY_POLICY
from harness.deploy.principals import Missing, PrincipalSessions, ServiceSessions, Unavailable
from harness.evidence import DecisionEvidence, Explanation, Source
from harness.evidence.computed import (
    FetchedPolicies,
    IdentityAlone,
    ResourceAlone,
    decide_chain,
)
from harness.evidence.explain import explainer_for
from harness.evidence.simulated import SimulationInconclusive, simulate_request
from harness.probes.calls import Attempt, Call, attempt
from harness.probes.cells import Cell
from harness.targets import Capability, Target

RESOURCE_SIDE_POLICY = "harness-resource-side-probe"


class Identity(StrEnum):
    AS_DEPLOYED = "as deployed"
    ADMIN_LIKE = "with an admin-like identity policy attached for the probe"


@dataclass(frozen=True)
class Observation:
    """A request made, what came back, and who says why."""

    call: Call
    identity: Identity
    attempt: Attempt
    explanation: Explanation

    @property
    def allowed(self) -> bool:
        return self.attempt.allowed


def call_key(call: Call) -> str:
    return f"{call.principal}|{call.label}|{call.via}|{call.plain_http}"


@contextmanager
def admin_like(target: Target, role_arn: str) -> Iterator[None]:
    """``role_arn`` holds an admin-like inline policy (``kms:*``, ``s3:*``, ``sts:AssumeRole``
    on everything) within the block; it is removed afterwards, also on failure."""
    account_id, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[1]
    iam = target.client("iam", target.session(account_id))
    iam.put_role_policy(
        RoleName=name, PolicyName=RESOURCE_SIDE_POLICY, PolicyDocument=json.dumps(CANARY_POLICY)
    )
    try:
        time.sleep(target.policy_propagation_seconds)
        yield
    finally:
        iam.delete_role_policy(RoleName=name, PolicyName=RESOURCE_SIDE_POLICY)
        time.sleep(target.policy_propagation_seconds)


class Prober:
    """Observations of ``cells``' requests; ``settle`` runs before the first resource-side
    batch (it waits for the pipeline, so no identity policy changes under a running action)."""

    def __init__(
        self,
        target: Target,
        principals: PrincipalSessions,
        cells: Iterable[Cell],
        settle: Callable[[], None] = lambda: None,
    ) -> None:
        self.target = target
        self.principals = principals
        self.cells = list(cells)
        self.explainer = explainer_for(target)
        self._settle = settle
        self._seen: dict[tuple[str, Identity], Observation | Exception] = {}
        self._lock = threading.RLock()
        self._identities = IdentityAlone(FetchedPolicies(target))

    def observe(self, call: Call) -> Observation:
        """``call`` made as deployed (once per run); raises :class:`Unavailable` or
        :class:`Missing` when the principal cannot be acted as."""
        key = (call_key(call), Identity.AS_DEPLOYED)
        with self._lock:
            if key not in self._seen:
                self._seen[key] = self._capture(call, Identity.AS_DEPLOYED)
            return self._unwrap(self._seen[key])

    def identity_side(self, call: Call) -> tuple[DecisionEvidence, ...]:
        """``call`` decided by the engine on its principal's identity policies alone (as if
        every resource policy allowed it), computed from the policies the target holds: the
        mirror of the resource-side probe, for least privilege."""
        with self._lock:
            return decide_chain(call.intent, self._identities)

    def resource_alone(self, call: Call) -> tuple[DecisionEvidence, ...]:
        """``call`` decided by the engine on the resource policies alone, as if the principal's
        own policies granted nothing (computed from the policies the target holds)."""
        return decide_chain(call.intent, ResourceAlone(FetchedPolicies(self.target)))

    def resource_side(self, cell: Cell) -> Observation:
        """``cell``'s request made with the admin-like policy attached to its role; every
        resource-side request of that role is made in the same batch."""
        key = (call_key(cell.call), Identity.ADMIN_LIKE)
        with self._lock:
            if key not in self._seen:
                self._batch(cell.call.principal)
            return self._unwrap(self._seen[key])

    def _batch(self, role: str) -> None:
        self._settle()
        calls = {
            call_key(c.call): c.call
            for c in self.cells
            if c.resource_side and c.call.principal == role
        }
        try:
            self.principals.session(role)
        except Unavailable:
            pass  # simulated, where the target simulates (see _capture)
        except Missing as missing:
            for key in calls:
                self._seen[key, Identity.ADMIN_LIKE] = missing
            return
        with admin_like(self.target, role):
            for key, call in calls.items():
                self._seen[key, Identity.ADMIN_LIKE] = self._capture(call, Identity.ADMIN_LIKE)

    def _capture(self, call: Call, identity: Identity) -> Observation | Exception:
        try:
            return self._make(call, identity)
        except Unavailable as unable:
            return self._simulated(call, identity, unable)
        except Missing as missing:
            return missing

    def _simulated(
        self, call: Call, identity: Identity, unable: Unavailable
    ) -> Observation | Exception:
        """The request as AWS's policy simulator decides it, for a role the target cannot
        act as (on ``aws``, the roles only a service may assume); else ``unable``."""
        simulable = ":role/" in call.principal and not (call.via or call.plain_http)
        if not (simulable and self.target.has(Capability.SIMULATES_POLICIES)):
            return unable
        try:
            explanation = simulate_request(self.target, call.intent, FetchedPolicies(self.target))
        except SimulationInconclusive as inconclusive:
            return Unavailable(f"{unable}; and {inconclusive}")
        allowed = bool(explanation.decisions) and all(d.allowed for d in explanation.decisions)
        detail = "" if allowed else f"simulated: {explanation.describe()}"
        return Observation(
            call, identity, Attempt(allowed, detail, explanation.request_id), explanation
        )

    def _make(self, call: Call, identity: Identity) -> Observation:
        if call.principal.endswith(".amazonaws.com"):
            return self._service_assume(call, identity)
        client = self.principals.client(
            call.principal, call.service, via=call.via, plain_http=call.plain_http
        )
        outcome = attempt(lambda: call.invoke(client))
        return Observation(
            call, identity, outcome, self.explainer.explain(outcome.request_id, call.intent)
        )

    def _service_assume(self, call: Call, identity: Identity) -> Observation:
        """An AWS service assuming a role (a trust cell's control), where the target can act
        as the service."""
        if not isinstance(self.target, ServiceSessions):
            raise Unavailable(f"target {self.target.name} cannot act as {call.principal}")
        try:
            self.target.session_as_service(call.intent.resource, call.principal)
        except PermissionError as refused:
            outcome = Attempt(False, str(refused), None)
        else:
            outcome = Attempt(True, "", None)
        return Observation(call, identity, outcome, Explanation(Source.DECISION_LOG, None, ()))

    @staticmethod
    def _unwrap(seen: Observation | Exception) -> Observation:
        if isinstance(seen, Exception):
            raise seen
        return seen
