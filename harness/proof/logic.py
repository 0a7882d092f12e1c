"""Boolean connectives over z3 terms and Python constants, folding the constants away.

Once a request's action and resource are known, much of a policy is constant: a statement
that cannot apply, a principal element of ``"*"``, a statement without conditions. Those stay
Python booleans, so the solver sees only what is left; and what is left is built straight
through z3's C API, skipping the Python-side coercion of ``z3.And``/``z3.Or`` that otherwise
costs more than the solving.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import z3
from z3 import z3core

Term = z3.BoolRef | bool


def _build(make: Callable[..., object], terms: list[z3.BoolRef]) -> z3.BoolRef:
    ctx = terms[0].ctx
    array = (z3.Ast * len(terms))(*(t.as_ast() for t in terms))
    return z3.BoolRef(make(ctx.ref(), len(terms), array), ctx)


def _fold(terms: Iterable[Term], absorbing: bool, make: Callable[..., object]) -> Term:
    """``terms`` joined by ``make``, Python booleans folded away: ``absorbing`` decides the
    whole at once, its negation is the identity and drops out."""
    kept: list[z3.BoolRef] = []
    for term in terms:
        if term is absorbing:
            return absorbing
        if term is not (not absorbing):
            kept.append(term)  # type: ignore[arg-type]
    if not kept:
        return not absorbing
    return kept[0] if len(kept) == 1 else _build(make, kept)


def all_of(terms: Iterable[Term]) -> Term:
    """Conjunction: False if any is, True if all are."""
    return _fold(terms, False, z3core.Z3_mk_and)


def any_of(terms: Iterable[Term]) -> Term:
    """Disjunction: True if any is, False if none is."""
    return _fold(terms, True, z3core.Z3_mk_or)


def negate(term: Term) -> Term:
    if isinstance(term, bool):
        return not term
    return z3.BoolRef(z3core.Z3_mk_not(term.ctx.ref(), term.as_ast()), term.ctx)


def implies(premise: Term, conclusion: Term) -> Term:
    return any_of((negate(premise), conclusion))


def choose(condition: Term, then: Term, otherwise: Term) -> Term:
    """``then`` where ``condition`` holds, else ``otherwise``."""
    if isinstance(condition, bool):
        return then if condition else otherwise
    return any_of((all_of((condition, then)), all_of((negate(condition), otherwise))))


def term(value: Term) -> z3.BoolRef:
    """A z3 term, for the solver."""
    return z3.BoolVal(value) if isinstance(value, bool) else value
