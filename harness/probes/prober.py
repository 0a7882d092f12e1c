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
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from queue import Empty, SimpleQueue

from harness.deploy.deploy import CANARY_POLICY
from harness.deploy.principals import Missing, PrincipalSessions, ServiceSessions, Unavailable
from harness.evidence import DecisionEvidence, Explanation, Source
from harness.evidence.computed import (
    FetchedPolicies,
    IdentityAlone,
    ResourceAlone,
    decide,
    decide_chain,
)
from harness.evidence.explain import explainer_for
from harness.evidence.simulated import SimulationInconclusive, simulate_request
from harness.probes.calls import Attempt, Call, attempt
from harness.probes.cells import Cell
from harness.targets import Capability, Target

RESOURCE_SIDE_POLICY = "harness-resource-side-probe"
PROBE_WORKERS = 4


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
    """Observations of ``cells``' requests."""

    def __init__(
        self, target: Target, principals: PrincipalSessions, cells: Iterable[Cell]
    ) -> None:
        self.target = target
        self.principals = principals
        self.cells = list(cells)
        self.explainer = explainer_for(target)
        self._seen: dict[tuple[str, Identity], Future[Observation | Exception]] = {}
        self._lock = threading.Lock()
        self._fetched = FetchedPolicies(target)
        self._identities = IdentityAlone(self._fetched)
        self._resources = ResourceAlone(self._fetched)

    def prefetch(
        self,
        cells: Iterable[Cell],
        meanwhile: Callable[[], object] = lambda: None,
        workers: int = PROBE_WORKERS,
    ) -> None:
        """Make the requests ``cells`` need (independent calls by different principals):
        every request and control as deployed, then each role's resource-side batch (roles
        side by side, one role's batch at a time: its identity policy changes for the batch).
        Judging afterwards reads what was observed.

        The as-deployed requests change no policy, so they start at once, one at a time
        beside ``meanwhile`` (the suite follows the pipeline there, whose own steps then keep
        most of the interpreter), and ``workers`` at a time once it has returned. The
        resource-side batches wait for it: an identity policy must not change under a
        running pipeline action. If ``meanwhile`` raises, or the wait is interrupted, requests
        not yet begun are dropped."""
        chosen = list(cells)
        calls = {call_key(c): c for cell in chosen for c in (cell.call, cell.control) if c}
        roles = dict.fromkeys(c.call.principal for c in chosen if c.resource_side)
        waiting: SimpleQueue[tuple[Call, Identity]] = SimpleQueue()
        for call in calls.values():
            waiting.put((call, Identity.AS_DEPLOYED))
        dropped = threading.Event()

        def drain() -> None:
            while not dropped.is_set():
                try:
                    request = waiting.get_nowait()
                except Empty:
                    return
                self._result(request)

        with ThreadPoolExecutor(workers, thread_name_prefix="probe") as pool:
            try:
                lanes = [pool.submit(drain)]
                meanwhile()
                lanes += [pool.submit(drain) for _ in range(workers - 1)]
                for lane in wait(lanes, return_when=FIRST_EXCEPTION).done:
                    lane.result()  # the first that broke, if one did
            except BaseException:  # an interrupt too: the pool's exit waits only for those begun
                dropped.set()
                raise
            list(pool.map(self._batch, roles))

    def observe(self, call: Call) -> Observation:
        """``call`` made as deployed (once per run); raises :class:`Unavailable` or
        :class:`Missing` when the principal cannot be acted as."""
        return self._unwrap(self._result((call, Identity.AS_DEPLOYED)))

    def _result(self, request: tuple[Call, Identity]) -> Observation | Exception:
        """The outcome of ``request``, made by the first thread to ask; others wait for it."""
        call, identity = request
        key = (call_key(call), identity)
        with self._lock:
            future = self._seen.get(key)
            owner = future is None
            if owner:
                future = self._seen[key] = Future()
        assert future is not None
        if owner:
            future.set_result(self._capture(call, identity))
        return future.result()

    def identity_side(self, call: Call) -> tuple[DecisionEvidence, ...]:
        """``call`` decided by the engine on its principal's identity policies alone (as if
        every resource policy allowed it), computed from the policies the target holds: the
        mirror of the resource-side probe, for least privilege."""
        return decide_chain(call.intent, self._identities)

    def resource_alone(self, call: Call) -> tuple[DecisionEvidence, ...]:
        """Each decision ``call`` needs (its S3 request, and the KMS call S3 makes for it),
        decided apart by the engine on the resource policies alone, as if the principal's own
        policies granted nothing (computed from the policies the target holds)."""
        return tuple(decide(step, self._resources) for step in (call.intent, *call.intent.also))

    def resource_side(self, cell: Cell) -> Observation:
        """``cell``'s request made with the admin-like policy attached to its role; every
        resource-side request of that role is made in the same batch."""
        key = (call_key(cell.call), Identity.ADMIN_LIKE)
        if key not in self._seen:
            self._batch(cell.call.principal)
        return self._unwrap(self._seen[key].result())

    def _batch(self, role: str) -> None:
        """Every resource-side request of ``role`` not yet asked for, with the admin-like
        policy attached once for all of them."""
        with self._lock:
            mine: list[tuple[Call, Future[Observation | Exception]]] = []
            for cell in self.cells:
                key = (call_key(cell.call), Identity.ADMIN_LIKE)
                if cell.resource_side and cell.call.principal == role and key not in self._seen:
                    self._seen[key] = Future()
                    mine.append((cell.call, self._seen[key]))
        if not mine:
            return
        try:
            self.principals.session(role)
        except Unavailable:
            pass  # simulated, where the target simulates (see _capture)
        except Missing as missing:
            for _, future in mine:
                future.set_result(missing)
            return
        with admin_like(self.target, role):
            for call, future in mine:
                future.set_result(self._capture(call, Identity.ADMIN_LIKE))

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
            explanation = simulate_request(self.target, call.intent, self._fetched)
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
