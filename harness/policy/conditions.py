"""Condition operators, compiled from a table of operator families.

Semantics follow the IAM reference ("Condition operators", "Conditions with multiple context
keys or values", "Single-valued vs. multivalued context keys"):

* several operators in a block, and several keys under one operator: AND;
* several values for one key: OR; for a negated operator (``StringNotEquals``...): NOR;
* a key missing from the request: positive operators are false, negated ones true,
  ``...IfExists`` true, ``Null`` tests presence itself;
* ``ForAllValues:`` is true when every request value passes (and when the key is missing or
  empty); ``ForAnyValue:`` when at least one does (false when missing or empty).
A multi-valued key used without a set operator behaves as ``ForAnyValue`` for positive
operators and requires that no value matches for negated ones.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from harness.policy.errors import PolicyError
from harness.policy.patterns import Lookup, Pattern, PatternSet

ValueTest = Callable[[str, Lookup], bool]
"""Does one request value match any of the operator's policy values? (the classes below)"""


def as_text(value: object) -> str:
    """A JSON scalar as IAM compares it: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_number(text: str) -> float | None:
    """A request or policy value read as Numeric* operators read it (None: not a number)."""
    try:
        return float(text)
    except ValueError:
        return None


@lru_cache(maxsize=4096)  # request values repeat; parsing one costs a raised ValueError
def parse_date(text: str) -> float | None:
    """A value read as Date* operators read it: epoch seconds, or an ISO 8601 date-time."""
    number = parse_number(text)
    if number is not None:
        return number
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def parse_binary(text: str) -> bytes:
    """A BinaryEquals value: base64 when it decodes as such, else its own bytes."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


# Value tests: does one request value match any of the operator's policy values? Each is a
# small structure rather than a closure, so the SMT model (harness.proof) encodes the very
# values the engine compares with.
@dataclass(frozen=True, slots=True)
class PatternTest(PatternSet):
    """String* and Arn* operators: the value matches one of the policy's ``patterns``."""

    __call__ = PatternSet.matches  # called directly: a call less per condition


@dataclass(frozen=True, slots=True)
class OrderedTest:
    """Numeric* and Date* operators: the parsed value compares with one policy value
    (policy values that do not parse are ignored, as a value that does not parse fails)."""

    parse: Callable[[str], float | None]
    compare: Callable[[float, float], bool]
    wanted: tuple[float, ...]

    def __call__(self, value: str, _lookup: Lookup | None = None) -> bool:
        got = self.parse(value)
        if got is None:
            return False
        compare = self.compare  # a loop, not any(): a generator costs more than the test
        for want in self.wanted:  # noqa: SIM110
            if compare(got, want):
                return True
        return False


@dataclass(frozen=True, slots=True)
class BoolTest:
    """Bool: the value equals one of the policy's, ignoring case."""

    wanted: frozenset[str]  # lower case

    def __call__(self, value: str, _lookup: Lookup | None = None) -> bool:
        return value.lower() in self.wanted


@dataclass(frozen=True, slots=True)
class BinaryTest:
    """BinaryEquals: the decoded value equals one of the policy's decoded values."""

    wanted: frozenset[bytes]

    def __call__(self, value: str, _lookup: Lookup | None = None) -> bool:
        return parse_binary(value) in self.wanted


@dataclass(frozen=True, slots=True)
class IpTest:
    """IpAddress: the value is an address inside one of the policy's networks."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    _ranges: tuple[tuple[int, int, int], ...] = field(init=False, repr=False, compare=False)
    """Each network as (version, address, netmask) integers: ``address in network`` is
    ``int(address) & netmask == network address``, without ipaddress's Python-level calls."""

    def __post_init__(self) -> None:
        ranges = tuple((n.version, int(n.network_address), int(n.netmask)) for n in self.networks)
        object.__setattr__(self, "_ranges", ranges)  # frozen: set once

    def __call__(self, value: str, _lookup: Lookup | None = None) -> bool:
        address = _address(value)
        if address is None:
            return False
        version, number = address
        for network_version, network, mask in self._ranges:
            if network_version == version and number & mask == network:
                return True
        return False


def _ordered(
    parse: Callable[[str], float | None], compare: Callable[[float, float], bool]
) -> Callable[..., ValueTest]:
    def build(values: Sequence[str], **_: bool) -> ValueTest:
        return OrderedTest(parse, compare, tuple(p for p in map(parse, values) if p is not None))

    return build


def _bool(values: Sequence[str], **_: bool) -> ValueTest:
    return BoolTest(frozenset(v.lower() for v in values))


def _binary_equals(values: Sequence[str], **_: bool) -> ValueTest:
    return BinaryTest(frozenset(parse_binary(v) for v in values))


def _ip(values: Sequence[str], **_: bool) -> ValueTest:
    return IpTest(tuple(ipaddress.ip_network(v, strict=False) for v in values))


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(r"\.".join([_OCTET] * 4)).fullmatch
"""A dotted quad as ``ipaddress`` accepts one (ASCII digits, no leading zeros, each <= 255)."""


@lru_cache(maxsize=4096)  # request values repeat (a caller's address on every request)
def _address(text: str) -> tuple[int, int] | None:
    """An address as (IP version, integer), or None if ``text`` is not one. A dotted quad,
    the usual source address, is read by one regex: ``ipaddress`` parses each octet in Python
    (it still reads everything else, IPv6 included)."""
    quad = _IPV4(text)
    if quad is not None:
        a, b, c, d = map(int, quad.groups())
        return 4, a << 24 | b << 16 | c << 8 | d
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


def _string(
    ignore_case: bool = False, wildcards: bool = False, arn: bool = False
) -> Callable[..., ValueTest]:
    def build(values: Sequence[str], *, variables: bool) -> ValueTest:
        return PatternTest(
            tuple(
                Pattern(
                    v, ignore_case=ignore_case, wildcards=wildcards, arn=arn, variables=variables
                )
                for v in values
            )
        )

    return build


# Operator name -> (builder of the positive test, negated?)
OPERATORS: dict[str, tuple[Callable[..., ValueTest], bool]] = {
    "StringEquals": (_string(), False),
    "StringNotEquals": (_string(), True),
    "StringEqualsIgnoreCase": (_string(ignore_case=True), False),
    "StringNotEqualsIgnoreCase": (_string(ignore_case=True), True),
    "StringLike": (_string(wildcards=True), False),
    "StringNotLike": (_string(wildcards=True), True),
    "NumericEquals": (_ordered(parse_number, operator.eq), False),
    "NumericNotEquals": (_ordered(parse_number, operator.eq), True),
    "NumericLessThan": (_ordered(parse_number, operator.lt), False),
    "NumericLessThanEquals": (_ordered(parse_number, operator.le), False),
    "NumericGreaterThan": (_ordered(parse_number, operator.gt), False),
    "NumericGreaterThanEquals": (_ordered(parse_number, operator.ge), False),
    "DateEquals": (_ordered(parse_date, operator.eq), False),
    "DateNotEquals": (_ordered(parse_date, operator.eq), True),
    "DateLessThan": (_ordered(parse_date, operator.lt), False),
    "DateLessThanEquals": (_ordered(parse_date, operator.le), False),
    "DateGreaterThan": (_ordered(parse_date, operator.gt), False),
    "DateGreaterThanEquals": (_ordered(parse_date, operator.ge), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_binary_equals, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_string(wildcards=True, arn=True), False),
    "ArnLike": (_string(wildcards=True, arn=True), False),
    "ArnNotEquals": (_string(wildcards=True, arn=True), True),
    "ArnNotLike": (_string(wildcards=True, arn=True), True),
}
_SET_QUALIFIERS = ("ForAllValues", "ForAnyValue")


@dataclass(frozen=True, slots=True)
class KeyTest:
    """One ``operator: {key: values}`` pair, compiled."""

    operator: str
    key: str  # lower case: condition keys are case-insensitive
    qualifier: str | None
    if_exists: bool
    negated: bool
    null_wants_absent: tuple[bool, ...] | None  # for Null only
    value_test: ValueTest | None
    _test: ValueTest | None = field(init=False, repr=False, compare=False)
    """``value_test``'s ``__call__`` bound: calling that is cheaper than calling the test."""
    single: Callable[[str], object] | None = field(init=False, repr=False, compare=False)
    """The test of one string value, true or false alike, where it needs nothing else from
    the request (None: ``Null``, or a pattern with a variable or ``*``): the engine's plans
    call it inline for the usual single value, and ``holds`` otherwise."""

    def __post_init__(self) -> None:
        value_test = self.value_test
        test = None if value_test is None else value_test.__call__  # type: ignore[operator]
        single = value_test.quick if isinstance(value_test, PatternTest) else test
        object.__setattr__(self, "_test", test)  # frozen: set once
        object.__setattr__(self, "single", single)

    def holds(self, lookup: Lookup) -> bool:
        found = lookup(self.key)
        test = self._test
        if test is not None and type(found) is str:  # the usual case: one value, see below
            return test(found, lookup) != self.negated
        values = (found,) if isinstance(found, str) else found or ()
        if self.null_wants_absent is not None:
            return (not values) in self.null_wants_absent
        assert test is not None
        if not values:
            if self.qualifier == "ForAllValues":
                return True
            if self.if_exists:
                return True
            return self.negated and self.qualifier is None
        if len(values) == 1:  # the usual case, where every form below comes to this
            return test(values[0], lookup) != self.negated
        if self.qualifier == "ForAllValues":  # every value passes
            return all(test(v, lookup) != self.negated for v in values)
        if self.qualifier == "ForAnyValue" or not self.negated:  # some value passes
            return any(test(v, lookup) != self.negated for v in values)
        return not any(test(v, lookup) for v in values)  # negated: no value matches


def compile_condition(block: object, *, variables: bool, where: str) -> tuple[KeyTest, ...]:
    """Compile a statement's ``Condition`` element; ``where`` names it in errors."""
    if block is None:
        return ()
    if not isinstance(block, dict):
        raise PolicyError(f"{where}: Condition must be an object")
    tests: list[KeyTest] = []
    for full_name, pairs in block.items():
        qualifier, _, name = full_name.rpartition(":")
        if qualifier and qualifier not in _SET_QUALIFIERS:
            raise PolicyError(f"{where}: unknown condition qualifier {qualifier!r}")
        if_exists = name.endswith("IfExists")
        base = name.removesuffix("IfExists")
        if not isinstance(pairs, dict):
            raise PolicyError(f"{where}: {full_name} must map condition keys to values")
        for key, raw in pairs.items():
            values = [as_text(v) for v in (raw if isinstance(raw, list) else [raw])]
            if base == "Null" and not if_exists:
                wants = tuple(v.lower() == "true" for v in values)
                tests.append(
                    KeyTest(full_name, key.lower(), qualifier or None, False, False, wants, None)
                )
                continue
            if base not in OPERATORS:
                raise PolicyError(f"{where}: unknown condition operator {full_name!r}")
            build, negated = OPERATORS[base]
            try:
                value_test = build(values, variables=variables)
            except ValueError as error:
                raise PolicyError(f"{where}: bad value for {full_name}: {error}") from error
            tests.append(
                KeyTest(
                    full_name, key.lower(), qualifier or None, if_exists, negated, None, value_test
                )
            )
    return tuple(tests)
