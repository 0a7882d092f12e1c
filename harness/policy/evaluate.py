"""AWS's documented authorization decision, with the reason for it.

Follows the IAM user guide's "Policy evaluation logic" (single account), "Cross-account
policy evaluation logic", the KMS developer guide's "Key policies" (the key policy must
allow, directly or by delegating to the account, whose IAM policies then decide) and the
rule that role trust policies, like key policies, must allow the caller explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Literal, NamedTuple

from harness.policy.conditions import as_text
from harness.policy.errors import PolicyError
from harness.policy.policy import (
    KIND_NAMES,
    Match,
    Policy,
    PolicyKind,
    Statement,
    StatementRef,
    policies,
)
from harness.policy.principal import Principal

ResourceKind = Literal["generic", "kms-key", "role-trust"]
ContextValue = str | bool | int | float | Sequence[str]
PolicyInput = Policy | str | Mapping[str, Any]


def _frozen(value: ContextValue) -> str | tuple[str, ...]:
    """A context value as conditions read it: a string (JSON scalars as AWS writes them) or
    a tuple of strings."""
    if isinstance(value, list | tuple | set | frozenset):
        items = tuple(value)
        for item in items:  # usually strings already: no call per value for nothing
            if type(item) is not str:
                return tuple([as_text(v) for v in items])
        return items
    return as_text(value)


_LOWER_KEYS: dict[str, str] = {}
_KEYS_REMEMBERED = 4096  # condition key names in use; past that, start again


def _lower_key(key: str) -> str:
    """A condition key in lower case, kept: the same few names come with every request, and
    reusing one lower-case string spares making and hashing a new one per request."""
    if len(_LOWER_KEYS) >= _KEYS_REMEMBERED:
        _LOWER_KEYS.clear()
    lower = _LOWER_KEYS[key] = key.lower()
    return lower


@dataclass(frozen=True)
class Request:
    """An immutable, hashable authorization request.

    ``context`` holds condition keys (any case) with a string or a list of strings; keys
    derived from the principal (``aws:PrincipalArn``, ``aws:PrincipalAccount``,
    ``aws:username``, ...) are added unless given. As a field it is the keys (lower case)
    and values, sorted.
    """

    principal: Principal
    action: str
    resource: str
    context: tuple[tuple[str, str | tuple[str, ...]], ...] = cached_property(  # type: ignore[assignment]
        lambda self: tuple(sorted(self._lookup.items()))  # keys are unique: values never compared
    )
    """Sorted when first read: deciding reads ``_lookup``; only hashing, comparing and
    showing a request read ``context``."""
    _lookup: dict[str, str | tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __init__(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, ContextValue] | None = None,
    ) -> None:
        # A copy of the principal's keys, not ``context()``: a call less per request.
        merged: dict[str, str | tuple[str, ...]] = principal.derived.copy()
        if context:  # keys lower case; values strings, or tuples of strings
            for key, value in context.items():
                lower = _LOWER_KEYS.get(key)
                if lower is None:
                    lower = _lower_key(key)
                merged[lower] = value if type(value) is str else _frozen(value)
        # Frozen: fields are set through the instance dict (a request is made for every
        # decision).
        fields = vars(self)
        fields["principal"] = principal
        fields["action"] = action
        fields["resource"] = resource
        fields["_lookup"] = merged

    def get(self, key: str) -> str | tuple[str, ...] | None:
        """A condition key's value; keys are case-insensitive."""
        return self._lookup.get(key.lower())


RESOURCE_POLICY_KIND: dict[ResourceKind, PolicyKind] = {
    "generic": "resource",
    "kms-key": "key",
    "role-trust": "trust",
}

RESOURCE_POLICY_NAME: dict[ResourceKind, str] = {
    "generic": "resource policy",
    "kms-key": "key policy",
    "role-trust": "trust policy",
}


class Decision(NamedTuple):
    """The outcome, with its evidence.

    ``statements`` are the deciding statements (the explicit denies, or the allows that
    granted); ``matched`` every statement whose action, resource, conditions and (in a
    resource policy) principal applied, denies and allows alike; ``lacking`` for an implicit
    deny, the kinds of policy whose allow was missing.

    A named tuple, not a dataclass: one is made per request, and a tuple is the cheapest
    immutable record to make (see ``_Plan.decide``).
    """

    allowed: bool
    reason: str
    statements: tuple[StatementRef, ...] = ()
    matched: tuple[StatementRef, ...] = ()
    lacking: tuple[PolicyKind, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def deciding_kinds(self) -> tuple[PolicyKind, ...]:
        """The kinds of policy that decided: those of the deciding statements, else (an
        implicit deny) those whose allow was missing."""
        kinds = [ref.kind for ref in self.statements] or list(self.lacking)
        return tuple(dict.fromkeys(kinds))


def _refs(statements: Iterable[Statement], kind: PolicyKind) -> tuple[StatementRef, ...]:
    return tuple([s.cite(kind) for s in statements])


@lru_cache(maxsize=256)
def _decided_by(kinds: tuple[PolicyKind, ...]) -> str:
    """The end of a reason naming the kinds of policy that decided (``kinds`` in order, with
    repeats): the same few texts decision after decision."""
    names = ", ".join(KIND_NAMES[kind] for kind in dict.fromkeys(kinds))
    return f" [decided by: {names}]" if names else ""


def _decision(
    allowed: bool,
    reason: str,
    matched: tuple[StatementRef, ...],
    statements: tuple[StatementRef, ...] = (),
    lacking: tuple[PolicyKind, ...] = (),
) -> Decision:
    """A decision of ``evaluate``, its reason ending with the kinds that decided (those of the
    deciding statements, else those whose allow was missing: ``Decision.deciding_kinds``),
    made once."""
    if len(statements) == 1:  # usual: one deciding statement
        kinds: tuple[PolicyKind, ...] = (statements[0].kind,)
    else:
        kinds = tuple([ref.kind for ref in statements]) if statements else lacking
    return Decision(allowed, reason + _decided_by(kinds), statements, matched, lacking)


def check_principal_elements(policy_list: Iterable[Policy], resource_based: bool) -> None:
    """AWS rejects resource policies without, and other policies with, a principal element."""
    for policy in policy_list:
        for statement in policy.statements:
            if (statement.principal is None) == resource_based:
                kind = (
                    "a resource-based policy statement needs"
                    if resource_based
                    else "an identity-based policy statement must not have"
                )
                raise PolicyError(f"{statement.label}: {kind} Principal or NotPrincipal")


def _checked(resource_based: bool, *policy_lists: tuple[Policy, ...]) -> None:
    """Check the principal elements of each policy once per use (resource-based or not)."""
    for policy_list in policy_lists:
        for policy in policy_list:
            if resource_based not in policy.checked_as:
                check_principal_elements((policy,), resource_based)
                policy.checked_as.add(resource_based)


@lru_cache(maxsize=1024)  # a key or role is the resource of request after request
def _resource_account(resource: str) -> str:
    """The account in the resource's ARN (when the caller does not say)."""
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[4]:
        return parts[4]
    raise PolicyError(f"resource {resource!r} names no account; pass resource_account")


def evaluate(
    request: Request,
    identity: Iterable[PolicyInput] = (),
    resource: PolicyInput | None = None,
    resource_account: str | None = None,
    resource_kind: ResourceKind = "generic",
    boundary: PolicyInput | None = None,
    scps: Sequence[PolicyInput] = (),
    session: Sequence[PolicyInput] = (),
    rcps: Sequence[PolicyInput] = (),
) -> Decision:
    """Decide ``request`` as AWS would, given every policy that applies to it.

    ``scps`` (the principal's account) and ``rcps`` (the resource's account) are one policy
    per level of the organization hierarchy, each level must allow; which apply at all is
    :mod:`harness.policy.organization`'s to say. ``session``: the inline and managed session
    policies the session was made with (none: not limited by any); their union caps the
    identity side as a boundary does. The reason ends naming the kinds of policy that decided.
    """
    identity_policies = policies(identity, "identity policy")
    boundary_policy = None if boundary is None else Policy.coerce(boundary, "permissions boundary")
    # Usually none of these (no call made for nothing: this runs for every request).
    scp_policies = policies(scps, "SCP") if scps else ()
    session_policies = policies(session, "session policy") if session else ()
    rcp_policies = policies(rcps, "RCP") if rcps else ()
    resource_policy = (
        resource
        if resource is None or type(resource) is Policy
        else Policy.coerce(resource, "resource policy")
    )
    account = resource_account or _resource_account(request.resource)
    # Compiled policies are immutable and hashed by identity: a changed policy is a new
    # object. So is a principal (keyed by its id, which the plan holds so it is not reused).
    key = (
        request.action,
        id(request.principal),
        resource_kind,
        account,
        resource_policy,
        boundary_policy,
        identity_policies,
        scp_policies,
        session_policies,
        rcp_policies,
    )
    plan = _PLANS.get(key)
    if plan is None:
        plan = _Plan.make(
            request,
            account,
            resource_kind,
            identity_policies,
            boundary_policy,
            scp_policies,
            session_policies,
            rcp_policies,
            resource_policy,
        )
        if len(_PLANS) >= _PLANS_REMEMBERED:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan.decide(request)


Candidates = tuple[tuple[Statement, int], ...]
"""Statements of one kind of policy that act on a plan's action, in order, each with its bit
in the plan's mask of resource and condition results (0: holds for every request)."""

_PLANS: dict[tuple[Any, ...], _Plan] = {}
_PLANS_REMEMBERED = 4096  # callers x actions x policy sets in play; past that, start again
_OUTCOMES_REMEMBERED = 256  # per plan: combinations of resource and condition results seen
_PLACEHOLDER = "\x00resource\x00"  # where an outcome's reason names the resource
_new_tuple = tuple.__new__


@dataclass(slots=True)  # not frozen: ``outcomes`` fills as requests come
class _Plan:
    """Everything a decision depends on besides the request's resource and context, worked
    out once per caller, action, resource kind and account and set of policies: which
    statements act on the action (in a resource policy: and name the caller). A request
    then only tests its resource and context against the statements that have a Resource or
    Condition element to test (``tests``); the decision for each combination of their
    results is made once (``outcomes``), and only its reason is written per request."""

    principal: Principal  # held, so its id in the plan's key stays its
    action: str
    account: str
    resource_kind: ResourceKind
    boundary: Policy | None
    scps: tuple[Policy, ...]
    rcps: tuple[Policy, ...]
    resource: Policy | None
    has_session: bool
    tests: tuple[tuple[Any, ...], ...]
    """The conditional statements' ``checks`` (``Checks``), each with its bit (bit i of a
    mask: the i-th holds for the request's resource and context)."""
    identity_hits: Candidates
    boundary_hits: Candidates
    scp_hits: tuple[Candidates, ...]  # per level
    session_hits: Candidates
    rcp_hits: tuple[Candidates, ...]  # per level
    resource_hits: tuple[tuple[Statement, Match, int], ...]
    outcomes: dict[int, tuple[Decision, list[str] | None]]

    @classmethod
    def make(
        cls,
        request: Request,
        account: str,
        resource_kind: ResourceKind,
        identity: tuple[Policy, ...],
        boundary: Policy | None,
        scps: tuple[Policy, ...],
        session: tuple[Policy, ...],
        rcps: tuple[Policy, ...],
        resource: Policy | None,
    ) -> _Plan:
        _checked(False, identity, scps, session)
        _checked(True, rcps)
        if boundary is not None:
            _checked(False, (boundary,))
        if resource is not None:
            _checked(True, (resource,))
        principal, action = request.principal, request.action
        conditional: list[Statement] = []
        bits: dict[int, int] = {}  # id of a statement -> its bit (a policy may come twice)

        def bit(statement: Statement) -> int:
            if statement.unconditional:
                return 0
            found = bits.get(id(statement))
            if found is None:
                found = bits[id(statement)] = 1 << len(conditional)
                conditional.append(statement)
            return found

        def acting(policy_list: Iterable[Policy]) -> Candidates:
            return tuple((s, bit(s)) for p in policy_list for s in p.for_action(action))

        # Each kind's statements that apply, in the order decisions cite them: identity,
        # boundary, SCPs, session, RCPs, resource policy. SCPs restrict the principals of the
        # organization's accounts; a service, web identity or anonymous caller is not one.
        # RCPs guard the resource whoever calls, service principals included.
        applies_to_identity = principal.has_identity_policies
        capped = applies_to_identity and not principal.is_root  # by a boundary and sessions
        scp_levels = scps if applies_to_identity else ()
        identity_hits = acting(identity) if applies_to_identity else ()
        boundary_hits = acting((boundary,)) if boundary is not None and capped else ()
        scp_hits = tuple(acting((p,)) for p in scp_levels)
        session_hits = acting(session) if capped else ()
        rcp_hits = tuple(acting((p,)) for p in rcps)
        resource_hits = (
            ()
            if resource is None
            else tuple((s, level, bit(s)) for s, level in resource.for_caller(action, principal))
        )
        return cls(
            principal,
            action,
            account,
            resource_kind,
            boundary,
            scp_levels,
            rcps,
            resource,
            bool(session),
            tuple((*s.checks(), 1 << i) for i, s in enumerate(conditional)),
            identity_hits,
            boundary_hits,
            scp_hits,
            session_hits,
            rcp_hits,
            resource_hits,
            {},
        )

    def decide(self, request: Request) -> Decision:
        """The decision for one request of this plan."""
        target = request.resource
        mask = 0
        if self.tests:
            lookup = request._lookup.get
            # Statement.holds_for and KeyTest.holds, inlined: calls less per statement and
            # request. ``not x != y`` is ``bool(x) == y`` for a result that is not a bool.
            for quick, resources, not_resource, conditions, bit in self.tests:
                if quick is not None:
                    if (not quick(target)) != not_resource:
                        continue
                elif resources is not None and resources(target, lookup) == not_resource:
                    continue
                for key, single, negated, holds in conditions:
                    if single is not None:
                        value = lookup(key)
                        if type(value) is str:
                            if (not single(value)) != negated:
                                break
                            continue
                    if not holds(lookup):
                        break
                else:
                    mask |= bit
        known = self.outcomes.get(mask)
        if known is None:
            known = self.remember(mask)
        template, parts = known
        if parts is None:
            return self.decision(mask, target)
        # The template with this resource in its reason; tuple.__new__ skips the named
        # tuple's own __new__ (a Python call with argument handling), as ``_make`` does.
        return _new_tuple(
            Decision,
            (
                template.allowed,
                target.join(parts),
                template.statements,
                template.matched,
                template.lacking,
            ),
        )

    def remember(self, mask: int) -> tuple[Decision, list[str] | None]:
        """The outcome for ``mask``, made on its first request: the decision for a placeholder
        resource, its reason split there. A reason names the resource only in its ``what``;
        the split is kept only if the placeholder comes once, there. Else it was also in
        other text (a policy's name, say), and every such request's decision is made in
        full."""
        template = self.decision(mask, _PLACEHOLDER)
        parts: list[str] | None = template.reason.split(_PLACEHOLDER)
        if len(parts) != 2 or self.what(_PLACEHOLDER) not in template.reason:
            parts = None
        if len(self.outcomes) >= _OUTCOMES_REMEMBERED:
            self.outcomes.clear()
        outcome = self.outcomes[mask] = (template, parts)
        return outcome

    def what(self, target: str) -> str:
        """The request as every reason names it, once."""
        return f"{self.action} on {target} by {self.principal.arn}"

    def decision(self, mask: int, target: str) -> Decision:
        """AWS's decision when the conditional statements in ``mask`` hold for ``target``."""
        principal = self.principal
        what = self.what(target)
        identity_hits = _hits(self.identity_hits, mask)
        boundary_hits = _hits(self.boundary_hits, mask)
        scp_hits = [_hits(c, mask) for c in self.scp_hits]
        session_hits = _hits(self.session_hits, mask)
        rcp_hits = [_hits(c, mask) for c in self.rcp_hits]
        resource_hits = [(s, level) for s, level, bit in self.resource_hits if mask & bit == bit]
        holder_kind = RESOURCE_POLICY_KIND[self.resource_kind]
        matched = _refs(identity_hits, "identity")
        matched += _refs(boundary_hits, "boundary")
        for hits in scp_hits:
            matched += _refs(hits, "scp")
        matched += _refs(session_hits, "session")
        for hits in rcp_hits:
            matched += _refs(hits, "rcp")
        matched += tuple([s.cite(holder_kind) for s, _ in resource_hits])

        denies = tuple([ref for ref in matched if ref.effect == "Deny"])
        if denies:
            return _decision(
                False, f"Denied: explicit Deny in {denies[0].label} ({what}).", matched, denies
            )

        for level_policies, level_hits, level_kind in (
            (self.scps, scp_hits, "scp"),
            (self.rcps, rcp_hits, "rcp"),
        ):
            for policy, hits in zip(level_policies, level_hits, strict=True):
                if not any(s.allow for s in hits):
                    return _decision(
                        False,
                        f"Denied: {policy.name} allows no statement for {what} "
                        f"(an {KIND_NAMES[level_kind]} must allow, implicit deny).",
                        matched,
                        lacking=(level_kind,),
                    )

        root = principal.is_root
        if self.resource_kind == "role-trust" and root:
            return _decision(
                False,
                f"Denied: the account root user cannot assume roles ({what}).",
                matched,
                lacking=("rule",),
            )
        direct = [s for s, level in resource_hits if s.allow and level is Match.DIRECT]
        rp_name = self.resource.name if self.resource else "the resource"
        if not principal.has_identity_policies:
            if direct:
                return _decision(
                    True,
                    f"Allowed: {direct[0].label} names the {principal.kind.value} principal "
                    f"({what}).",
                    matched,
                    _refs(direct, holder_kind),
                )
            return _decision(
                False,
                f"Denied: no statement of {rp_name} names this "
                f"{principal.kind.value} principal (implicit deny; {what}).",
                matched,
                lacking=(holder_kind,),
            )

        allows_identity = [s for s in identity_hits if s.allow]
        boundary_ok = self.boundary is None or root or any(s.allow for s in boundary_hits)
        session_ok = not self.has_session or root or any(s.allow for s in session_hits)
        # A direct resource grant bypasses a boundary or session policy only when it names
        # the session or user ARN itself, not the role (IAM guide, "Permissions boundaries"
        # and "Session policies": resource-based policies).
        sides = _Sides(
            what,
            self.account,
            rp_name,
            self.resource_kind,
            holder_kind,
            self.resource is not None,
            direct,
            direct
            if boundary_ok and session_ok
            else [s for s in direct if s.names_exactly(principal)],
            [s for s, level in resource_hits if s.allow and level is Match.ACCOUNT],
            allows_identity,
            root,
            root or bool(allows_identity),
            boundary_ok,
            session_ok,
            self.boundary is not None,
            self.has_session,
            matched,
        )
        if principal.account == self.account:
            return _same_account(sides)
        return _cross_account(sides, principal.account or "")


def _hits(candidates: Candidates, mask: int) -> list[Statement]:
    """The candidates that apply when the conditional statements in ``mask`` hold."""
    return [s for s, bit in candidates if mask & bit == bit]


@dataclass(slots=True)
class _Sides:
    """What each side (resource policy, identity policies, boundary) says about a request;
    what only reasons read is worked out when a reason asks."""

    what: str
    account: str
    rp_name: str
    resource_kind: ResourceKind
    holder_kind: PolicyKind
    has_resource_policy: bool
    direct: list[Statement]
    direct_ok: list[Statement]
    delegated: list[Statement]
    allows_identity: list[Statement]
    root: bool
    identity_ok: bool
    boundary_ok: bool
    session_ok: bool
    has_boundary: bool
    has_session: bool
    matched: tuple[StatementRef, ...]

    @property
    def holder(self) -> str:
        return RESOURCE_POLICY_NAME[self.resource_kind]

    @property
    def strict(self) -> bool:
        """Key policies and trust policies must allow, even in the same account."""
        return self.resource_kind in ("kms-key", "role-trust")

    @property
    def identity_text(self) -> str:
        if self.allows_identity:
            return self.allows_identity[0].label
        return "the account root user's own rights"

    @property
    def boundary_text(self) -> str:
        return _limits_text(self.has_boundary, self.has_session, self.root)

    @property
    def identity_side(self) -> bool:
        return self.identity_ok and self.boundary_ok and self.session_ok

    @property
    def limits_lacking(self) -> list[PolicyKind]:
        """The caps (boundary, session policies) that do not allow the request."""
        lacking: list[PolicyKind] = []
        if not self.boundary_ok:
            lacking.append("boundary")
        if not self.session_ok:
            lacking.append("session")
        return lacking

    def grant(self, reason: str, resource: Iterable[Statement], identity: bool) -> Decision:
        """An allow, citing the resource statements given, the identity allows if the
        identity side took part, and the SCP and boundary allows: every level of the
        organization, the boundary and the session policies must allow too, so their allows
        are part of any grant."""
        refs = _refs(resource, self.holder_kind)
        if identity:
            refs += _refs(self.allows_identity, "identity")
        also = tuple([r for r in self.matched if r.kind in _ALSO_GRANTING])
        return _decision(True, reason, self.matched, refs + also)

    def refuse(self, reason: str, resource_side: bool) -> Decision:
        """An implicit deny, naming the kinds of policy whose allow was missing."""
        lacking: list[PolicyKind] = [self.holder_kind] if resource_side else []
        if not self.identity_ok:
            lacking.append("identity")
        return _decision(False, reason, self.matched, lacking=tuple(lacking + self.limits_lacking))


_ALSO_GRANTING = frozenset(("scp", "rcp", "boundary", "session"))


def _same_account(s: _Sides) -> Decision:
    """Same account: identity OR resource policy, except key and trust policies must allow."""
    if s.direct_ok:
        return s.grant(
            f"Allowed: {s.direct_ok[0].label} allows it ({s.what}; same "
            f"account: the {s.holder} alone suffices).",
            s.direct_ok,
            identity=False,
        )
    if not s.strict and s.identity_side:
        return s.grant(
            f"Allowed: {s.identity_text} allows it{s.boundary_text} "
            f"({s.what}; same account: an identity-based allow suffices).",
            (),
            identity=True,
        )
    if s.strict and s.delegated and s.identity_side:
        return s.grant(
            f"Allowed: {s.delegated[0].label} delegates to account "
            f"{s.account}, and {s.identity_text} allows it{s.boundary_text} "
            f"({s.what}).",
            s.delegated,
            identity=True,
        )
    if s.direct:  # granted to the role, but the boundary or a session policy does not allow it
        return _decision(False, _implicit_reason(s), s.matched, lacking=tuple(s.limits_lacking))
    # A key or trust policy must allow; a bucket policy could have, had the identity not.
    resource_side = not s.delegated if s.strict else s.has_resource_policy and not s.identity_ok
    return s.refuse(_implicit_reason(s), resource_side)


def _cross_account(s: _Sides, caller_account: str) -> Decision:
    """Cross-account: the resource side and the caller's identity side must both allow."""
    grants = s.direct + s.delegated
    if grants and s.identity_side:
        to = "the principal" if s.direct else f"account {caller_account}"
        return s.grant(
            f"Allowed: {grants[0].label} grants it to {to} and "
            f"{s.identity_text} allows it{s.boundary_text} ({s.what}; "
            "cross-account: both sides allow).",
            grants[:1],
            identity=True,
        )
    if grants:
        why = f"its {_limit_names(s)} does not" if s.identity_ok else "no identity policy does"
        return s.refuse(
            f"Denied: {grants[0].label} allows it but {why} (cross-account "
            f"needs both sides; implicit deny; {s.what}).",
            resource_side=False,
        )
    side = f"{s.identity_text} allows it" if s.identity_side else "no identity policy allows it"
    return s.refuse(
        f"Denied: no statement of {s.rp_name} grants it to the principal or "
        f"its account {caller_account}, and {side} (cross-account needs "
        f"both sides; implicit deny; {s.what}).",
        resource_side=True,
    )


def _implicit_reason(s: _Sides) -> str:
    """Why nothing allowed a same-account request, in the words a report reader needs."""
    if s.strict and not s.has_resource_policy:
        return f"Denied: there is no {s.holder} to allow it (implicit deny; {s.what})."
    if s.strict and s.identity_side:
        return (
            f"Denied: {s.identity_text} allows it, but the {s.holder} ({s.rp_name}) neither "
            f"names the principal nor delegates to account {s.account} (implicit deny; "
            f"{s.what})."
        )
    if s.delegated and not s.identity_ok:
        return (
            f"Denied: {s.delegated[0].label} delegates to account {s.account}, but no "
            f"identity policy of the principal allows it (implicit deny; {s.what})."
        )
    if s.limits_lacking and s.identity_ok:
        return (
            f"Denied: {s.identity_text} allows it but the {_limit_names(s)} does not "
            f"(implicit deny; {s.what})."
        )
    return f"Denied: no statement allowed it (implicit deny; {s.what})."


def _limits_text(boundary: bool, session: bool, root: bool) -> str:
    """How an identity allow's reason names the caps it passed."""
    if root or not (boundary or session):  # usual: no caps to name
        return ""
    caps = [
        name
        for name, given in (("permissions boundary", boundary), ("session policies", session))
        if given
    ]
    return "" if root or not caps else " within its " + " and ".join(caps)


def _limit_names(s: _Sides) -> str:
    return " or ".join(KIND_NAMES[kind] for kind in s.limits_lacking)
