"""A compiled condition test (:class:`harness.policy.conditions.KeyTest`) as a z3 formula.

The same rules as ``KeyTest.holds``: a missing key makes ``ForAllValues`` and ``...IfExists``
true, a negated operator true, any other false; ``Null`` tests presence; with values,
``ForAllValues`` needs every value to pass, ``ForAnyValue`` (and a positive operator) one, a
negated operator without a qualifier every value. Each operator family is encoded from the
values the engine compiled (patterns, parsed numbers, networks).
"""

from __future__ import annotations

import math
from fractions import Fraction

import z3

from harness.policy.conditions import (
    BoolTest,
    IpTest,
    KeyTest,
    OrderedTest,
    PatternTest,
    parse_number,
)
from harness.policy.patterns import Pattern
from harness.proof.context import Context
from harness.proof.errors import Unencodable
from harness.proof.logic import Term, all_of, any_of, choose, implies, negate
from harness.proof.text import literal, lowering_to, pattern_matches, text_regex

# str.lower() maps every character on its own, except the Greek capital sigma (final or not,
# by context) and the dotted capital I (to "i" plus U+0307): values holding what those map to
# are refused.
_CONTEXTUAL_LOWER = frozenset("\u03c3\u03c2\u0307")


def pattern_holds(pattern: Pattern, value: z3.SeqRef, context: Context) -> Term:
    """``value`` matches ``pattern``, its variables substituted from ``context`` as the
    engine substitutes them (the one value, else the default; unresolved: no match)."""
    if pattern.match_all:
        return True
    resolved: list[Term] = []
    values: dict[str, z3.SeqRef] = {}
    for token in pattern.tokens:
        if token.kind != "variable" or token.text in values:
            continue
        one = context.count(token.text) == 1
        first = context.strings(token.text)[0]
        if token.default is None:
            resolved.append(one)
            values[token.text] = first
        else:
            values[token.text] = z3.If(one, first, literal(token.default))
    return all_of((*resolved, pattern_matches(pattern, value, values)))


def _value_test(test: KeyTest, context: Context, i: int) -> Term:
    value_test = test.value_test
    if isinstance(value_test, PatternTest):
        value = context.strings(test.key)[i]
        return any_of(pattern_holds(p, value, context) for p in value_test.patterns)
    if isinstance(value_test, BoolTest):
        if any(c in _CONTEXTUAL_LOWER for w in value_test.wanted for c in w):
            raise Unencodable(f"{test.operator}: a value whose lower case depends on context")
        value = context.strings(test.key)[i]
        return any_of(z3.InRe(value, text_regex(w, lowering_to)) for w in value_test.wanted)
    if isinstance(value_test, OrderedTest):
        parsed = context.parsed(test.key, number=value_test.parse is parse_number)[i]
        wanted = [w for w in value_test.wanted if not math.isnan(w)]
        if any(math.isinf(w) for w in wanted):
            raise Unencodable(f"{test.operator}: a comparison with infinity")
        compare = value_test.compare
        hits = (compare(parsed.value, z3.RealVal(Fraction(w))) for w in wanted)
        return all_of((parsed.ok, any_of(hits)))
    if isinstance(value_test, IpTest):
        address = context.addresses(test.key)[i]
        hits = []
        for network in value_test.networks:
            width = network.max_prefixlen
            mask = ((1 << network.prefixlen) - 1) << (width - network.prefixlen)
            hits.append(
                all_of(
                    (
                        address.version == network.version,
                        address.bits & mask == int(network.network_address) & mask,
                    )
                )
            )
        return any_of(hits)
    raise Unencodable(f"condition operator {test.operator} cannot be encoded")


def holds(test: KeyTest, context: Context) -> Term:
    """The test, on the request ``context`` stands for."""
    count = context.count(test.key)
    if test.null_wants_absent is not None:
        return any_of((count == 0) == want for want in set(test.null_wants_absent))
    missing = (
        test.qualifier == "ForAllValues"
        or test.if_exists
        or (test.negated and test.qualifier is None)
    )
    size = context.slots[test.key].size
    passes = []
    for i in range(size):
        outcome = _value_test(test, context, i)
        passes.append(negate(outcome) if test.negated else outcome)
    if test.qualifier == "ForAnyValue" or (test.qualifier is None and not test.negated):
        present = any_of(all_of((i < count, p)) for i, p in enumerate(passes))
    else:
        present = all_of(implies(i < count, p) for i, p in enumerate(passes))
    return choose(count == 0, missing, present)
