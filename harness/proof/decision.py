"""The engine's decision (:func:`harness.policy.evaluate`) as a z3 formula over a request.

Step for step the same logic: an explicit deny anywhere wins (identity, permissions boundary,
session policies, SCPs, RCPs, the resource policy); every level of the SCPs over the caller
and of the RCPs over the resource must allow; the account root cannot assume roles;
principals without identity policies need a resource statement naming them; in the same
account an identity allow suffices except for key and trust policies, which must allow
directly or by delegating to the account (whose identity policies then decide); across
accounts both sides must allow. The identity side is capped by the principal's boundary and
session policies, which a resource grant naming the session itself bypasses. What holds for
the caller (identity, boundary, session policies, SCPs) may depend on who it is
(:class:`Identity`, :class:`Guardrails`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from harness.policy.evaluate import ResourceKind
from harness.policy.organization import _SERVICE_LINKED_PATH, Organization
from harness.policy.policy import Policy, Statement
from harness.policy.principal import Kind, Principal
from harness.proof.logic import Term, all_of, any_of, choose, implies, negate
from harness.proof.principals import SymbolicPrincipal, named_by
from harness.proof.request import SymbolicRequest
from harness.proof.text import literal


@dataclass(frozen=True)
class Held:
    """What one principal's own side consists of: its identity policies, the permissions
    boundary that caps them and the session policies its session was made with."""

    policies: tuple[Policy, ...]
    boundary: Policy | None = None
    session: tuple[Policy, ...] = ()

    def documents(self) -> Iterator[Policy]:
        yield from self.policies
        if self.boundary is not None:
            yield self.boundary
        yield from self.session


@dataclass(frozen=True)
class Identity:
    """What the caller holds: ``holders`` map an ARN (a role stands for its sessions) to
    what it holds; everyone else holds ``others``."""

    others: Held
    holders: tuple[tuple[str, Held], ...] = ()

    def policies(self) -> Iterator[Policy]:
        yield from self.others.documents()
        for _, held in self.holders:
            yield from held.documents()

    def of(self, principal: Principal) -> Held:
        """What a concrete principal holds (for the engine's side of a check)."""
        for arn, held in self.holders:
            if named_by(arn, principal):
                return held
        return self.others

    def branches(self, principal: SymbolicPrincipal) -> list[tuple[Term, Held]]:
        guards: list[tuple[Term, Held]] = [
            (principal.is_named_by(arn), held) for arn, held in self.holders
        ]
        anyone_named = any_of(guard for guard, _ in guards)
        return [*guards, (negate(anyone_named), self.others)]


@dataclass(frozen=True)
class Guardrails:
    """The SCP levels over the caller: ``everyone``'s over every principal with identity
    policies (as ``evaluate`` takes them), or, given an ``organization``, those it attaches
    over the caller's account (:meth:`Organization.scps_for`: none for the management
    account, accounts outside it, services and service-linked roles)."""

    everyone: tuple[Policy, ...] = ()
    organization: Organization | None = None

    def of(self, principal: Principal) -> tuple[Policy, ...]:
        if self.organization is None:
            return self.everyone
        return tuple(self.organization.scps_for(principal))

    def branches(self, principal: SymbolicPrincipal) -> list[tuple[Term, tuple[Policy, ...]]]:
        """(guard, levels) per group of callers; callers no guard covers have none."""
        org = self.organization
        if org is None:
            return [(True, self.everyone)] if self.everyone else []
        service_linked = all_of(
            (
                principal.of_kind(Kind.ROLE, Kind.ASSUMED_ROLE),
                principal.role_arn_contains(_SERVICE_LINKED_PATH),
            )
        )
        return [
            (
                all_of((principal.account == literal(account), negate(service_linked))),
                tuple(org.scps_for(Principal.from_arn(account))),
            )
            for account in org.parents
            if account != org.management_account
        ]

    def policies(self) -> Iterator[Policy]:
        yield from self.everyone
        if self.organization is not None:
            for account in self.organization.parents:
                yield from self.organization.scps_for(Principal.from_arn(account))


@dataclass(frozen=True)
class Query:
    """Everything that decides a request besides the request itself. ``rcps``: the RCP
    levels over the resource (``Organization.rcps_for`` says which)."""

    identity: Identity
    resource: Policy | None
    resource_account: str
    resource_kind: ResourceKind = "generic"
    scps: Guardrails = Guardrails()
    rcps: tuple[Policy, ...] = ()

    def statements(self) -> Iterator[Statement]:
        policies = [*self.identity.policies(), self.resource, *self.scps.policies(), *self.rcps]
        for policy in policies:
            if policy is not None:
                yield from policy.statements


def _any(request: SymbolicRequest, statements: list[Statement]) -> Term:
    return any_of(request.covers(s) for s in statements)


def _allows(request: SymbolicRequest, policies: tuple[Policy, ...], allow: bool) -> Term:
    return _any(request, [s for p in policies for s in p.statements if s.allow is allow])


def _each(
    branches: list[tuple[Term, tuple[Policy, ...]]],
    test: Callable[[tuple[Policy, ...]], Term],
    covering: bool = True,
) -> Term:
    """``test`` of the policies that hold for the caller, whichever branch it is in: a
    constant where the test is false for every branch, or true for every branch of
    ``covering`` ones (which leave no caller out)."""
    tests = [(guard, test(held)) for guard, held in branches]
    if all(t is False for _, t in tests):
        return False
    if covering and all(t is True for _, t in tests):
        return True
    return any_of(all_of((guard, t)) for guard, t in tests)


def _levels_allow(request: SymbolicRequest, levels: tuple[Policy, ...]) -> Term:
    return all_of(_allows(request, (level,), True) for level in levels)


def _capped(request: SymbolicRequest, cap: tuple[Policy, ...], root: Term) -> Term:
    """A boundary or the session policies allow the request (none given: no cap)."""
    return True if not cap else any_of((root, _allows(request, cap, True)))


def allowed(query: Query, request: SymbolicRequest) -> Term:
    """True exactly when the engine allows ``request`` under ``query``."""
    principal = request.principal
    has_identity = principal.has_account
    root = principal.is_root
    branches = query.identity.branches(principal)
    held = [(guard, h.policies) for guard, h in branches]
    boundaries = [(guard, (h.boundary,) if h.boundary else ()) for guard, h in branches]
    sessions = [(guard, h.session) for guard, h in branches]
    scps = query.scps.branches(principal)

    def denies(policies: tuple[Policy, ...]) -> Term:
        return _allows(request, policies, False)

    identity_allows = _each(held, lambda policies: _allows(request, policies, True))
    capped_denies = any_of((_each(boundaries, denies), _each(sessions, denies)))
    denied = any_of(
        (
            all_of(
                (has_identity, any_of((_each(held, denies), _each(scps, denies, covering=False))))
            ),
            all_of((has_identity, negate(root), capped_denies)),
            denies(query.rcps),
        )
    )
    scps_allow = all_of(implies(g, _levels_allow(request, levels)) for g, levels in scps)
    boundary_ok = _each(boundaries, lambda cap: _capped(request, cap, root))
    session_ok = _each(sessions, lambda cap: _capped(request, cap, root))
    limits_ok = all_of((boundary_ok, session_ok))

    direct: list[Term] = []
    direct_ok: list[Term] = []
    delegated: list[Term] = []
    for statement in query.resource.statements if query.resource is not None else ():
        applies = request.covers(statement)
        if applies is False:
            continue
        assert statement.principal is not None
        if statement.not_principal:
            by_name: Term = negate(principal.exempted(statement.principal))
            by_account: Term = False
        else:
            by_name, by_account = principal.named(statement.principal)
        if not statement.allow:
            denied = any_of((denied, all_of((applies, any_of((by_name, by_account))))))
            continue
        direct.append(all_of((applies, by_name)))
        exactly = principal.names_exactly(statement)
        direct_ok.append(all_of((applies, by_name, any_of((limits_ok, exactly)))))
        delegated.append(all_of((applies, by_account)))
    any_direct = any_of(direct)
    any_delegated = any_of(delegated)

    identity_ok = all_of((any_of((root, identity_allows)), limits_ok))
    strict = query.resource_kind in ("kms-key", "role-trust")
    same_account = any_of(
        (any_of(direct_ok), all_of((identity_ok, any_delegated if strict else True)))
    )
    cross_account = all_of((any_of((any_direct, any_delegated)), identity_ok))
    same = principal.account == literal(query.resource_account)
    with_identity = choose(same, same_account, cross_account)
    trust_root = root if query.resource_kind == "role-trust" else False
    return all_of(
        (
            negate(denied),
            implies(has_identity, scps_allow),
            _levels_allow(request, query.rcps),
            negate(trust_root),
            choose(has_identity, with_identity, any_direct),
        )
    )
