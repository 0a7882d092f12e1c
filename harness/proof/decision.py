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

import z3

from harness.policy.evaluate import ResourceKind
from harness.policy.policy import Policy, Statement
from harness.policy.principal import Principal
from harness.proof.principals import SymbolicPrincipal, named_by
from harness.proof.request import SymbolicRequest


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

    def branches(self, principal: SymbolicPrincipal) -> list[tuple[z3.BoolRef, tuple[Policy, ...]]]:
        guards = [(principal.is_named_by(arn), held) for arn, held in self.holders]
        anyone_named = z3.Or(False, *(guard for guard, _ in guards))
        return [*guards, (z3.Not(anyone_named), self.others)]


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


def _any(request: SymbolicRequest, statements: list[Statement]) -> z3.BoolRef:
    return z3.Or(False, *(request.covers(s) for s in statements))


def _allows(request: SymbolicRequest, policies: tuple[Policy, ...], allow: bool) -> z3.BoolRef:
    return _any(request, [s for p in policies for s in p.statements if s.allow is allow])


def allowed(query: Query, request: SymbolicRequest) -> z3.BoolRef:
    """True exactly when the engine allows ``request`` under ``query``."""
    principal = request.principal
    has_identity = principal.has_account
    root = principal.is_root
    branches = query.identity.branches(principal)
    identity_allows = z3.Or(*(g & _allows(request, held, True) for g, held in branches))
    identity_denies = z3.Or(*(g & _allows(request, held, False) for g, held in branches))
    scp_denies = z3.Or(False, *(_allows(request, (p,), False) for p in query.scps))
    scps_allow = z3.And(True, *(_allows(request, (p,), True) for p in query.scps))

    denied = has_identity & (identity_denies | scp_denies)
    boundary_ok: z3.BoolRef = z3.BoolVal(True)
    if query.boundary is not None:
        bounded = has_identity & z3.Not(root)
        boundary = (query.boundary,)
        denied = denied | (bounded & _allows(request, boundary, False))
        boundary_ok = root | _allows(request, boundary, True)

    direct: list[z3.BoolRef] = []
    direct_ok: list[z3.BoolRef] = []
    delegated: list[z3.BoolRef] = []
    for statement in query.resource.statements if query.resource is not None else ():
        applies = request.covers(statement)
        if statement.not_principal:
            assert statement.principal is not None
            by_name = z3.Not(principal.exempted(statement.principal))
            by_account = z3.BoolVal(False)
        else:
            assert statement.principal is not None
            by_name, by_account = principal.named(statement.principal)
        if not statement.allow:
            denied = denied | (applies & (by_name | by_account))
            continue
        direct.append(applies & by_name)
        direct_ok.append(applies & by_name & (boundary_ok | principal.names_exactly(statement)))
        delegated.append(applies & by_account)
    any_direct = z3.Or(False, *direct)
    any_delegated = z3.Or(False, *delegated)

    identity_ok = root | identity_allows
    strict = query.resource_kind in ("kms-key", "role-trust")
    same_account = z3.Or(
        z3.Or(False, *direct_ok),
        identity_ok & boundary_ok & (any_delegated if strict else z3.BoolVal(True)),
    )
    cross_account = (any_direct | any_delegated) & identity_ok & boundary_ok
    with_identity = z3.If(principal.account == query.resource_account, same_account, cross_account)
    trust_root = root if query.resource_kind == "role-trust" else z3.BoolVal(False)
    return z3.And(
        z3.Not(denied),
        z3.Implies(has_identity, scps_allow),
        z3.Not(trust_root),
        z3.If(has_identity, with_identity, any_direct),
    )
