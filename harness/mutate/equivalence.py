"""Equivalence first, offline: does a mutant change any decision the checks sample?

Every cell of the suite samples requests: its own, its control's, and for a role of the
deployment its own again with an admin-like identity policy attached (the resource-side
probe). Each is decided by the engine (:func:`harness.evidence.computed.decide_chain`, the
code that explains requests on targets without a decision log) on the policies fetched once
from the live deployment, and again with the mutant's policy in place of the original. A
mutant that changes no sampled decision (allowed or not, and the kinds of policy that decided)
is equivalent *by the engine, over the requests the checks sample*: nothing the checks do can
tell it apart, so it is not applied live.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property

from harness.deploy.deploy import CANARY_POLICY
from harness.evidence import Intent, PolicyKind
from harness.evidence.computed import (
    SERVICE_SUFFIX,
    PolicySource,
    bucket_of,
    decide_chain,
    inline_policy_name,
    role_name,
)
from harness.mutate.mutants import Mutant
from harness.mutate.sites import Kind, Site
from harness.policy import Policy
from harness.probes.cells import Cell

Outcome = tuple[tuple[bool, frozenset[PolicyKind]], ...]
ADMIN_LIKE = Policy.parse(CANARY_POLICY, name="the resource-side probe's admin-like policy")


@dataclass(frozen=True)
class Sampled:
    """One request a check makes for a cell: ``part`` is the cell's own request, its
    control, or its resource-side probe (made with ``admin_like`` identity)."""

    check: str
    cell: Cell
    part: str
    intent: Intent
    admin_like: bool = False

    @property
    def cell_key(self) -> str:
        return f"{self.check}/{self.cell.id}"

    @property
    def label(self) -> str:
        return f"{self.cell_key} ({self.part})"


class Change(StrEnum):
    """How a sampled decision differs under a mutant."""

    OUTCOME = "outcome"  # allowed where it was refused, or the other way round
    REFUSAL = "refusal"  # refused alike, but by other kinds of policy (or at another step)
    ALLOW = "allowing kinds"  # allowed alike, but by other kinds of policy


@dataclass(frozen=True)
class Changed:
    sample: Sampled
    change: Change


def difference(before: Outcome, after: Outcome) -> Change | None:
    """How ``after`` differs from ``before``, if it does: a request is allowed when every
    decision it needs is, and otherwise refused by the first decision that refuses."""
    if before == after:
        return None
    allowed = all(step for step, _ in before)
    if allowed != all(step for step, _ in after):
        return Change.OUTCOME
    return Change.ALLOW if allowed else Change.REFUSAL


def as_decided(intent: Intent) -> Intent:
    """The intent with the keys AWS adds when a service assumes a role for its own account
    (the local target's service sessions set them alike): ``aws:SourceAccount``, the name."""
    if not (intent.principal.endswith(SERVICE_SUFFIX) and intent.action == "sts:AssumeRole"):
        return intent
    context = {
        **intent.context,
        "aws:SourceAccount": intent.resource.split(":")[4],
        "aws:PrincipalServiceName": intent.principal,
    }
    return replace(intent, context=context)


def sampled(cells: Mapping[str, Mapping[str, Cell]]) -> list[Sampled]:
    """Every request the checks of ``cells`` (check -> id -> cell) make."""
    found = []
    for check, group in cells.items():
        for cell in group.values():
            found.append(Sampled(check, cell, "request", as_decided(cell.call.intent)))
            if cell.control is not None:
                found.append(Sampled(check, cell, "control", as_decided(cell.control.intent)))
            if cell.resource_side:
                found.append(
                    Sampled(check, cell, "resource side", as_decided(cell.call.intent), True)
                )
    return found


class Snapshot:
    """The policies of ``source`` read once: deciding on it never reaches the target again."""

    def __init__(self, source: PolicySource) -> None:
        self._source = source
        self._identity: dict[str, tuple[list[Policy], Policy | None]] = {}
        self._resource: dict[tuple[str, str], Policy | None] = {}

    def identity(self, principal: str) -> tuple[list[Policy], Policy | None]:
        if principal not in self._identity:
            self._identity[principal] = self._source.identity(principal)
        return self._identity[principal]

    def resource(self, intent: Intent) -> Policy | None:
        key = (intent.action.split(":", 1)[0], _holder(intent))
        if key not in self._resource:
            self._resource[key] = self._source.resource(intent)
        return self._resource[key]


def _holder(intent: Intent) -> str:
    """What holds the resource-side policy of ``intent``: the bucket, else the resource."""
    return bucket_of(intent.resource) if intent.action.startswith("s3:") else intent.resource


class Replaced:
    """``snapshot`` with ``site``'s policy replaced by ``document`` (None: deleted)."""

    def __init__(self, snapshot: Snapshot, site: Site, document: Mapping[str, object] | None):
        self.snapshot, self.site, self.document = snapshot, site, document
        self._policies: dict[str, Policy | None] = {}

    def _parsed(self, name: str) -> Policy | None:
        """The mutated policy under the name the original had (parsed once)."""
        if name not in self._policies:
            document = self.document
            self._policies[name] = None if document is None else Policy.parse(dict(document), name)
        return self._policies[name]

    @cached_property
    def _inline_name(self) -> str:
        return inline_policy_name(role_name(self.site.resource), self.site.policy_name)

    def identity(self, principal: str) -> tuple[list[Policy], Policy | None]:
        policies, boundary = self.snapshot.identity(principal)
        if self.site.kind is not Kind.IDENTITY or principal != self.site.resource:
            return policies, boundary
        kept = [p for p in policies if p.name != self._inline_name]
        mutated = self._parsed(self._inline_name)
        return kept + ([mutated] if mutated is not None else []), boundary

    def resource(self, intent: Intent) -> Policy | None:
        original = self.snapshot.resource(intent)
        if not holds(self.site, intent) or original is None:
            return original
        return self._parsed(original.name)


class AdminLike:
    """``source`` with the resource-side probe's admin-like policy added to every role."""

    def __init__(self, source: PolicySource) -> None:
        self.source = source

    def identity(self, principal: str) -> tuple[list[Policy], Policy | None]:
        policies, boundary = self.source.identity(principal)
        return [*policies, ADMIN_LIKE], boundary

    def resource(self, intent: Intent) -> Policy | None:
        return self.source.resource(intent)


def holds(site: Site, intent: Intent) -> bool:
    """Whether ``site`` is the resource-side policy of ``intent``."""
    service = intent.action.split(":", 1)[0]
    if site.kind is Kind.KEY:
        return service == "kms" and intent.resource == site.resource
    if site.kind is Kind.BUCKET:
        return service == "s3" and bucket_of(intent.resource) == site.resource
    if site.kind is Kind.TRUST:
        return intent.action == "sts:AssumeRole" and intent.resource == site.resource
    return False


def _chain(intent: Intent) -> Iterator[Intent]:
    yield intent
    yield from intent.also


def touches(site: Site, intent: Intent) -> bool:
    """Whether ``site``'s policy takes part in any decision of ``intent``."""
    if site.kind is Kind.IDENTITY:
        return any(step.principal == site.resource for step in _chain(intent))
    return any(holds(site, step) for step in _chain(intent))


def outcome(sample: Sampled, source: PolicySource) -> Outcome:
    """What the checks see of a decision: allowed or not, and by which kinds of policy."""
    policies = AdminLike(source) if sample.admin_like else source
    return tuple((d.allowed, d.decided_by) for d in decide_chain(sample.intent, policies))


class Equivalence:
    """Decides mutants against the sampled requests; the original's decisions once each."""

    def __init__(self, samples: list[Sampled], snapshot: Snapshot) -> None:
        self.samples = samples
        self.snapshot = snapshot
        self._original: dict[int, Outcome] = {}
        self._bearing: dict[str, list[int]] = {}

    def original(self, index: int) -> Outcome:
        if index not in self._original:
            self._original[index] = outcome(self.samples[index], self.snapshot)
        return self._original[index]

    def bearing(self, site: Site) -> list[int]:
        """The sampled requests ``site`` takes part in (by index)."""
        if site.name not in self._bearing:
            self._bearing[site.name] = [
                i for i, s in enumerate(self.samples) if touches(site, s.intent)
            ]
        return self._bearing[site.name]

    def changed(self, mutant: Mutant) -> list[Changed]:
        """The sampled requests whose decision the mutant changes (none: equivalent)."""
        mutated = Replaced(self.snapshot, mutant.site, mutant.document)
        found = []
        for i in self.bearing(mutant.site):
            change = difference(self.original(i), outcome(self.samples[i], mutated))
            if change is not None:
                found.append(Changed(self.samples[i], change))
        return found
