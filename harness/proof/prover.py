"""Ask the solver about each property, and turn its answers into evidence.

A safety property is PROVEN when no violation is satisfiable, FAILED with counterexamples
when one is (several, of different kinds or accounts of principal, to show the extent). A
liveness property is PROVEN with the request that shows it, FAILED when no request is allowed.
A property the model cannot encode, or the solver cannot decide in time, is UNKNOWN with the
reason: never a claim. Every request shown is decided again by the engine; a disagreement is
a bug (:class:`ModelMismatch`), never a finding.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

import z3

from harness.policy.access_matrix import Allowlist
from harness.policy.evaluate import Decision, Request, evaluate
from harness.policy.principal import Principal
from harness.proof.decision import Query
from harness.proof.errors import ModelMismatch, Unencodable
from harness.proof.logic import term
from harness.proof.principals import KINDS, SymbolicPrincipal
from harness.proof.properties import Goal, Properties, Property, Variant
from harness.proof.system import Document, System
from harness.proof.text import literal

COUNTEREXAMPLES = 3  # per failing property, each from another kind or account of principal
# The quick tries are bounded by z3's resource count, not a clock: counted steps give the same
# answer on a loaded CI machine as on a quiet one (a clock let the same template's finding move
# between two statements from run to run). A million steps is ~0.5-1 s on a 2-core machine.
FIRST_TRY_STEPS = 1_000_000  # then one question per kind of principal, each up to TIMEOUT_MS
PREFERENCE_STEPS = 1_000_000  # a preference the solver does not settle in these is passed over
TIMEOUT_MS = 30_000  # the wall-clock bound of every question, so none can hang the proof
_ANSWERS: dict[
    tuple[int | None, ...],
    tuple[z3.CheckSatResult, z3.ModelRef | None, tuple[z3.BoolRef, ...]],
] = {}  # see _check


class Verdict(StrEnum):
    PROVEN = "PROVEN"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Decided:
    """A concrete request, what decides it, and the engine's decision with its statements."""

    request: Request
    query: Query
    decision: Decision


@dataclass(frozen=True)
class Example:
    """A counterexample (or a liveness witness, or the cell no request satisfies): the
    requests, each with its decision."""

    requests: tuple[Decided, ...]

    @property
    def principal(self) -> Principal:
        return self.requests[0].request.principal


@dataclass(frozen=True)
class Result:
    property: Property
    variant: Variant
    verdict: Verdict
    seconds: float
    examples: tuple[Example, ...] = ()
    reason: str = ""  # why UNKNOWN
    assumptions: tuple[str, ...] = ()


def _decide(query: Query, request: Request) -> Decision:
    held = query.identity.of(request.principal)
    return evaluate(
        request,
        identity=held.policies,
        resource=query.resource,
        resource_account=query.resource_account,
        resource_kind=query.resource_kind,
        boundary=held.boundary,
        scps=query.scps.of(request.principal),
        session=held.session,
        rcps=query.rcps,
    )


def _example(goal: Goal, model: z3.ModelRef) -> Example:
    decided = []
    for check in goal.checks:
        request = check.request.decode(model)
        decision = _decide(check.query, request)
        claimed = z3.is_true(model.eval(term(check.allowed), model_completion=True))
        if decision.allowed != claimed:
            raise ModelMismatch(
                f"the model {'allows' if claimed else 'denies'} {request}, the engine: "
                f"{decision.reason}"
            )
        decided.append(Decided(request, check.query, decision))
    return Example(tuple(decided))


def _check(
    constraints: Sequence[z3.BoolRef], steps: int | None = None
) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """Satisfiability of ``constraints`` within ``steps`` of z3's resource count (if given)
    and TIMEOUT_MS, with a model if any. A fresh solver each time: z3's incremental mode
    (push/pop) was seen to loop, past its timeout, on string equations a fresh solver settles
    at once. Each question is asked once per process: the same constraints (a goal built
    again names its variables alike) get the answer the solver gave them."""
    key = (steps, *(c.get_id() for c in constraints))  # z3 builds an equal term once
    if key not in _ANSWERS:
        solver = z3.Solver()
        solver.set("timeout", TIMEOUT_MS)
        if steps is not None:
            solver.set("rlimit", steps)  # relative to the solver's context's count so far
        solver.add(*constraints)
        answer = solver.check()
        model = solver.model() if answer == z3.sat else None
        if answer != z3.unknown or steps is not None:  # not a clock's verdict: it may change
            _ANSWERS[key] = (answer, model, tuple(constraints))  # alive: ids stay theirs
        return answer, model
    answer, model, _ = _ANSWERS[key]
    return answer, model


def _search(
    constraints: Sequence[z3.BoolRef], principal: SymbolicPrincipal
) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """:func:`_check`, split by kind of principal when the whole question takes long (the
    string solver settles each kind quickly: a kind fixes the shape of the principal's ARN)."""
    answer, model = _check(constraints, FIRST_TRY_STEPS)
    if answer != z3.unknown:
        return answer, model
    answer = z3.unsat
    for kind in principal.kinds:
        found, model = _check([*constraints, principal.of_kind(kind)])
        if found == z3.sat:
            return found, model
        if found == z3.unknown:
            answer = found
    return answer, None


def _holds(model: z3.ModelRef, preference: z3.BoolRef) -> bool:
    """The model meets ``preference`` (what it leaves open read as the decoding reads it)."""
    return z3.is_true(model.eval(preference, model_completion=True))


def _steer(
    constraints: list[z3.BoolRef], model: z3.ModelRef, preferences: Iterable[z3.BoolRef]
) -> z3.ModelRef:
    """The model after adding each preference that keeps ``constraints`` satisfiable (one
    the solver does not settle quickly is passed over); all at once first, as they mostly
    go together. One the model at hand meets is kept without asking: the model shows it
    keeps them satisfiable, where asking cost up to PREFERENCE_STEPS, and the string solver
    did not always find a model again within them."""
    wanted = list(preferences)
    _, found = _check([*constraints, *wanted], PREFERENCE_STEPS)
    if found is not None:
        return found
    kept = list(constraints)
    for preference in wanted:
        if not _holds(model, preference):
            _, found = _check([*kept, preference], PREFERENCE_STEPS)
            if found is None:
                continue
            model = found
        kept.append(preference)
    return model


def _find(
    constraints: list[z3.BoolRef], goal: Goal, expected: bool
) -> tuple[z3.CheckSatResult, z3.ModelRef | None]:
    """:func:`_search`, its model steered (:func:`_steer`). Where a model is ``expected``
    (a liveness witness, a further counterexample) the question with every preference is
    asked first: a model of it is the steered one, found without the search (it is the
    question steering asks first, and is quicker than the search, its principal narrowed
    by the preferences); where it has none, search and steering go on as ever."""
    if expected:
        _, found = _check([*constraints, *goal.preferences], PREFERENCE_STEPS)
        if found is not None:
            return z3.sat, found
    answer, model = _search(constraints, goal.principal)
    if model is None:
        return answer, None
    return answer, _steer(constraints, model, goal.preferences)


def _other_than(principal: SymbolicPrincipal, seen: Principal) -> z3.BoolRef:
    """Not the same kind of principal in the same account (or the same service)."""
    same = principal.kind == KINDS.index(seen.kind)
    if seen.account is not None:
        same = z3.And(same, principal.account == literal(seen.account))
    elif seen.name is not None:
        same = z3.And(same, principal.name == literal(seen.name))
    return z3.Not(same)


def solve(prop: Property, variant: Variant, limit: int = COUNTEREXAMPLES) -> Result:
    """Decide ``prop`` in ``variant`` (see the module docstring)."""
    began = time.perf_counter()
    assumed: tuple[str, ...] = ()

    def result(verdict: Verdict, examples: Iterable[Example] = (), reason: str = "") -> Result:
        seconds = time.perf_counter() - began
        return Result(prop, variant, verdict, seconds, tuple(examples), reason, assumed)

    try:
        goals = prop.goals(variant)
    except Unencodable as refused:
        return result(Verdict.UNKNOWN, reason=f"cannot be encoded: {refused}")
    examples: list[Example] = []
    undecided = ""
    for goal in goals:
        if len(examples) >= limit:
            break  # FAILED already, with all the counterexamples asked for
        assumed = goal.assumptions
        constraints = [*(check.request.domain() for check in goal.checks), term(goal.condition)]
        answer, model = _find(constraints, goal, expected=prop.liveness)
        while model is not None:
            example = _example(goal, model)
            examples.append(example)
            if prop.liveness:
                return result(Verdict.PROVEN, examples)
            if len(examples) >= limit:
                break
            constraints.append(_other_than(goal.principal, example.principal))
            answer, model = _find(constraints, goal, expected=True)
        if answer == z3.unknown:
            undecided = undecided or "the solver did not decide in time"
    if examples:
        return result(Verdict.FAILED, examples)
    if undecided:
        return result(Verdict.UNKNOWN, reason=undecided)
    if prop.liveness:
        goal = goals[0]
        shown = tuple(
            Decided(request, check.query, _decide(check.query, request))
            for request, check in zip(goal.shown, goal.checks, strict=True)
        )
        return result(Verdict.FAILED, [Example(shown)])
    return result(Verdict.PROVEN)


Cache = MutableMapping[tuple[str, ...], tuple[int, Result]]
"""Results kept by what they depend on (:func:`_cache_key`), each with the number of
counterexamples it was asked for."""


def _speaks_of(document: Document, services: frozenset[str]) -> bool:
    """The document has a statement that may grant or deny an action of ``services``."""
    for statement in document.policy.statements:
        if statement.not_action:
            return True
        for pattern in statement.action_patterns:
            service = pattern.text.split(":", 1)[0].lower()
            if service == "*" or service in services:
                return True
    return False


def _cache_key(
    prop: Property, variant: Variant, system: System, asked: tuple[str, ...]
) -> tuple[str, ...]:
    """What a result depends on: the documents the property reads, the SCPs, for the
    deployed identities every identity policy and boundary that may speak of the property's
    actions, and what was asked (:func:`prove`'s allow-list and accounts)."""
    identities: tuple[str, ...] = ()
    if variant is Variant.DEPLOYED:
        identities = tuple(
            f"{role.arn}:{','.join(role.unread)}:{role.unread_boundary}:"
            f"{role.boundary.digest if role.boundary else ''}:"  # it caps what it omits too
            + ",".join(d.digest for d in role.identity if _speaks_of(d, prop.services))
            for role in system.roles
        )
    names = (system.key_arn, system.bucket, system.region)
    reads = (d.digest for d in (*prop.reads, *system.scps))
    organization = repr(system.organization.parents) if system.organization else ""
    return (prop.id, variant.value, *asked, *names, organization, *reads, *identities)


def prove(
    system: System,
    allowlist: Allowlist,
    accounts: Sequence[str] = (),
    variants: Sequence[Variant] = tuple(Variant),
    cache: Cache | None = None,
    only: Iterable[str] = (),
    limit: int = COUNTEREXAMPLES,
) -> list[Result]:
    """Every property of ``system`` under ``allowlist`` in each variant (``only``: the groups,
    or properties by id, to prove; ``limit``: counterexamples per failing property). ``cache``
    keeps results across calls while the documents they read are equal."""
    chosen = set(only)
    results = []
    asked = (hashlib.sha256(repr(allowlist).encode()).hexdigest(), *accounts)
    for prop in Properties(system, allowlist, accounts).all():
        if chosen and not chosen & {prop.group, prop.id}:
            continue
        for variant in variants:
            key = _cache_key(prop, variant, system, asked)
            kept = None if cache is None else cache.get(key)
            if kept is not None and (kept[0] >= limit or kept[1].verdict is not Verdict.FAILED):
                found = kept[1]
                if len(found.examples) > limit:
                    found = replace(found, examples=found.examples[:limit])
                results.append(found)
                continue
            found = solve(prop, variant, limit)
            if cache is not None:
                cache[key] = (limit, found)
            results.append(found)
    return results
