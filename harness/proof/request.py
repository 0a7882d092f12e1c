"""A request the solver chooses: principal, action, resource and context.

Action and resource are either given (a text: statements that cannot apply to it are
dropped before encoding, using the engine's own matching) or chosen by the solver within a
regex the property gives. Which statements can apply is settled first, so the context only
has slots for the keys those statements read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import z3

from harness.policy.evaluate import Request
from harness.policy.policy import Statement
from harness.proof.conditions import holds, pattern_holds
from harness.proof.context import Context, Pin, Use, scan
from harness.proof.logic import Term, all_of, any_of, negate
from harness.proof.principals import SymbolicPrincipal
from harness.proof.text import decode, literal

Text = str | z3.SeqRef


def _never(_key: str) -> None:
    return None


def may_apply(statement: Statement, action: Text, resource: Text | None) -> bool:
    """False when the statement's action or resource element excludes the request whatever
    its context (decided by the engine's own matching where they are given; ``None``: any
    resource)."""
    if isinstance(action, str) and (statement.actions.match(action) is None) != (
        statement.not_action
    ):
        return False
    patterns = statement.resources
    if isinstance(resource, str) and patterns and not any(p.has_variables for p in patterns):
        return any(p.matches(resource, _never) for p in patterns) != statement.not_resource
    return True


@dataclass
class SymbolicRequest:
    """See the module docstring. ``domain`` holds the constraints every model satisfies."""

    principal: SymbolicPrincipal
    action: Text
    resource: Text
    context: Context
    action_domain: z3.ReRef | None = None
    resource_domain: z3.ReRef | None = None
    _covered: dict[int, Term] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        principal: SymbolicPrincipal,
        action: Text,
        resource: Text,
        statements: Iterable[Statement],
        pins: Mapping[str, Pin] | None = None,
        sizes: Mapping[str, int] | None = None,
        action_domain: z3.ReRef | None = None,
        resource_domain: z3.ReRef | None = None,
        extra_keys: Iterable[str] = (),
    ) -> SymbolicRequest:
        """A request over ``statements``; ``extra_keys`` get slots even where no statement
        reads them (a property speaks about them)."""
        relevant = [s for s in statements if may_apply(s, action, resource)]
        uses = scan(relevant)
        for key in extra_keys:
            uses.setdefault(key.lower(), Use(kinds={"string"}))
        context = Context(principal, uses, pins, sizes)
        return cls(principal, action, resource, context, action_domain, resource_domain)

    def domain(self) -> z3.BoolRef:
        rules = [self.principal.domain(), self.context.domain()]
        if self.action_domain is not None:
            rules.append(z3.InRe(self.action, self.action_domain))
        if self.resource_domain is not None:
            rules.append(z3.InRe(self.resource, self.resource_domain))
        return z3.And(*rules)

    def covers(self, statement: Statement) -> Term:
        """``Statement.covers``: action, resource and conditions apply (cached: a statement
        is read by one request once)."""
        key = id(statement)
        if key not in self._covered:
            self._covered[key] = self._covers(statement)
        return self._covered[key]

    def _covers(self, statement: Statement) -> Term:
        if not may_apply(statement, self.action, self.resource):
            return False
        rules: list[Term] = []
        if not isinstance(self.action, str):
            patterns = statement.action_patterns
            hit = any_of(pattern_holds(p, self.action, self.context) for p in patterns)
            rules.append(negate(hit) if statement.not_action else hit)
        patterns = statement.resources
        if patterns is not None and (
            not isinstance(self.resource, str) or any(p.has_variables for p in patterns)
        ):  # else may_apply settled it
            resource = literal(self.resource) if isinstance(self.resource, str) else self.resource
            hit = any_of(
                p.matches(self.resource, _never)
                if isinstance(self.resource, str) and not p.has_variables
                else pattern_holds(p, resource, self.context)
                for p in patterns
            )
            rules.append(negate(hit) if statement.not_resource else hit)
        rules += [holds(test, self.context) for test in statement.conditions]
        return all_of(rules)

    def decode(self, model: z3.ModelRef) -> Request:
        """The concrete request a model chose, as the engine takes it."""
        principal = self.principal.decode(model)
        derived = principal.context()
        context = self.context.decode(model, derived)

        def text(value: Text) -> str:
            return value if isinstance(value, str) else decode(model.eval(value, True))

        return Request(principal, text(self.action), text(self.resource), context)  # type: ignore[arg-type]
