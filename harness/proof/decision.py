"""The engine's decision (:func:`harness.policy.evaluate`) as a z3 formula over a request.

Step for step the same logic: an explicit deny anywhere wins; every SCP must allow; the
account root cannot assume roles; principals without identity policies need a resource
statement naming them; in the same account an identity allow suffices except for key and
trust policies, which must allow directly or by delegating to the account (whose identity
policies then decide); across accounts both sides must allow. Which identity policies apply
may depend on who the principal is (:class:`Identity`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from harness.policy.evaluate import ResourceKind
from harness.policy.policy import Policy, Statement
from harness.policy.principal import Principal
from harness.proof.logic import Term, all_of, any_of, choose, implies, negate
from harness.proof.principals import SymbolicPrincipal, named_by
from harness.proof.request import SymbolicRequest
from harness.proof.text import literal


@dataclass(frozen=True)
class Identity:
    """The identity policies of whoever makes the request: ``holders`` map an ARN (a role
    stands for its sessions) to its policies; everyone else holds ``others``."""

    others: tuple[Policy, ...]
    holders: tuple[tuple[str, tuple[Policy, ...]], ...] = ()

    def policies(self) -> Iterator[Policy]:
        yield from self.others
        for _, held in self.holders:
            yield from held

    def of(self, principal: Principal) -> tuple[Policy, ...]:
        """The policies a concrete principal holds (for the engine's side of a check)."""
        for arn, held in self.holders:
            if named_by(arn, principal):
                return held
        return self.others

    def branches(self, principal: SymbolicPrincipal) -> list[tuple[Term, tuple[Policy, ...]]]:
        guards: list[tuple[Term, tuple[Policy, ...]]] = [
            (principal.is_named_by(arn), held) for arn, held in self.holders
        ]
        anyone_named = any_of(guard for guard, _ in guards)
        return [*guards, (negate(anyone_named), self.others)]


@dataclass(frozen=True)
class Query:
    """Everything that decides a request besides the request itself."""

    identity: Identity
    resource: Policy | None
    resource_account: str
    resource_kind: ResourceKind = "generic"
    boundary: Policy | None = None
    scps: tuple[Policy, ...] = ()

    def statements(self) -> Iterator[Statement]:
        policies = [*self.identity.policies(), self.resource, self.boundary, *self.scps]
        for policy in policies:
            if policy is not None:
                yield from policy.statements


def _any(request: SymbolicRequest, statements: list[Statement]) -> Term:
    return any_of(request.covers(s) for s in statements)


def _allows(request: SymbolicRequest, policies: tuple[Policy, ...], allow: bool) -> Term:
    return _any(request, [s for p in policies for s in p.statements if s.allow is allow])


def allowed(query: Query, request: SymbolicRequest) -> Term:
    """True exactly when the engine allows ``request`` under ``query``."""
    principal = request.principal
    has_identity = principal.has_account
    root = principal.is_root
    branches = query.identity.branches(principal)
    identity_allows = any_of(all_of((g, _allows(request, held, True))) for g, held in branches)
    identity_denies = any_of(all_of((g, _allows(request, held, False))) for g, held in branches)
    scp_denies = any_of(_allows(request, (p,), False) for p in query.scps)
    scps_allow = all_of(_allows(request, (p,), True) for p in query.scps)

    denied = all_of((has_identity, any_of((identity_denies, scp_denies))))
    boundary_ok: Term = True
    if query.boundary is not None:
        bounded = all_of((has_identity, negate(root)))
        boundary = (query.boundary,)
        denied = any_of((denied, all_of((bounded, _allows(request, boundary, False)))))
        boundary_ok = any_of((root, _allows(request, boundary, True)))

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
        direct_ok.append(all_of((applies, by_name, any_of((boundary_ok, exactly)))))
        delegated.append(all_of((applies, by_account)))
    any_direct = any_of(direct)
    any_delegated = any_of(delegated)

    identity_ok = any_of((root, identity_allows))
    strict = query.resource_kind in ("kms-key", "role-trust")
    same_account = any_of(
        (any_of(direct_ok), all_of((identity_ok, boundary_ok, any_delegated if strict else True)))
    )
    cross_account = all_of((any_of((any_direct, any_delegated)), identity_ok, boundary_ok))
    same = principal.account == literal(query.resource_account)
    with_identity = choose(same, same_account, cross_account)
    trust_root = root if query.resource_kind == "role-trust" else False
    return all_of(
        (
            negate(denied),
            implies(has_identity, scps_allow),
            negate(trust_root),
            choose(has_identity, with_identity, any_direct),
        )
    )
