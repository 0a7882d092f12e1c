"""The request context as z3 terms: which condition keys are present, and their values.

Each key a relevant statement reads (in a condition or a policy variable) gets a slot: how
many values it has (0: absent) and the values themselves, typed by the operators that read
it: strings (String*, Arn*, Bool, variables), parsed numbers and dates (Numeric*, Date*) or
IP addresses (IpAddress). A key read both as text and as a number or address is refused: the
model does not encode how text parses.

A key is single-valued unless IAM documents it as multivalued (:data:`MULTIVALUED`). A
multivalued key gets as many value slots as tests read it (plus one when a variable does):
whatever values make a set of ``ForAnyValue``/``ForAllValues`` tests true or false, a subset
of that many values does too, so the bound loses no request.

Keys AWS derives from the principal (``aws:PrincipalArn``...) take the engine's values
(:meth:`harness.policy.principal.Principal.context`) and cannot be set by the caller; where the
engine derives none for a kind of principal, the key is free like any other.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction

import z3

from harness.policy.conditions import (
    BinaryTest,
    BoolTest,
    IpTest,
    OrderedTest,
    PatternTest,
    parse_date,
    parse_number,
)
from harness.policy.evaluate import Request
from harness.policy.patterns import Pattern
from harness.policy.policy import Statement
from harness.policy.principal import Kind
from harness.proof.errors import Unencodable
from harness.proof.principals import KINDS, SymbolicPrincipal
from harness.proof.text import decode, literal

MULTIVALUED = frozenset(
    {
        "aws:tagkeys",
        "aws:calledvia",
        "aws:principalservicenameslist",
        "aws:principalorgpaths",
        "aws:resourceorgpaths",
        "aws:sourceorgpaths",
        "kms:encryptioncontextkeys",
        "kms:grantoperations",
    }
)
"""Keys IAM documents as multivalued ("Single-valued vs. multivalued context keys")."""

# The range of datetime.fromisoformat: a date that is not a number lies within it.
_FIRST_DATE = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_LAST_DATE = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


@dataclass
class Use:
    """How the relevant statements read one key."""

    kinds: set[str] = field(default_factory=set)  # "string", "number", "date", "ip"
    tests: int = 0
    variable: bool = False


def _patterns_of(statement: Statement) -> Iterable[Pattern]:
    yield from statement.resources or ()
    for test in statement.conditions:
        if isinstance(test.value_test, PatternTest):
            yield from test.value_test.patterns


def scan(statements: Iterable[Statement]) -> dict[str, Use]:
    """The keys ``statements`` read, and how."""
    uses: dict[str, Use] = {}
    for statement in statements:
        for test in statement.conditions:
            use = uses.setdefault(test.key, Use())
            use.tests += 1
            value_test = test.value_test
            if isinstance(value_test, PatternTest | BoolTest):
                use.kinds.add("string")
            elif isinstance(value_test, OrderedTest):
                use.kinds.add("number" if value_test.parse is parse_number else "date")
            elif isinstance(value_test, IpTest):
                use.kinds.add("ip")
            elif isinstance(value_test, BinaryTest):
                raise Unencodable(f"{statement.label}: BinaryEquals cannot be encoded")
        for pattern in _patterns_of(statement):
            for token in pattern.tokens:
                if token.kind == "variable":
                    use = uses.setdefault(token.text, Use())
                    use.kinds.add("string")
                    use.variable = True
    for key, use in uses.items():
        if ("string" in use.kinds and len(use.kinds) > 1) or {"ip"} < use.kinds:
            raise Unencodable(
                f"condition key {key} is read both as "
                + " and as ".join(sorted(use.kinds))
                + ": how text parses is not encoded"
            )
    return uses


@dataclass(frozen=True)
class Parsed:
    """One value read by ordered operators: does it parse, and to what."""

    ok: z3.BoolRef
    value: z3.ArithRef


@dataclass(frozen=True)
class Address:
    """One value read by IpAddress: IPv4 (4), IPv6 (6) or not an address (0)."""

    version: z3.ArithRef
    bits: z3.BitVecRef


@dataclass(frozen=True)
class Slot:
    """A key's values: ``count`` of them (0: absent), each in the forms its use needs."""

    key: str
    count: z3.ArithRef
    strings: tuple[z3.SeqRef, ...] = ()
    numbers: tuple[Parsed, ...] = ()
    dates: tuple[Parsed, ...] = ()
    addresses: tuple[Address, ...] = ()

    @property
    def size(self) -> int:
        return max(len(self.strings), len(self.numbers), len(self.dates), len(self.addresses))


def _slot(prefix: str, key: str, use: Use, size: int) -> Slot:
    n = f"{prefix}.{key}"
    numbers = dates = ()
    if "number" in use.kinds:
        numbers = tuple(Parsed(z3.Bool(f"{n}.n{i}ok"), z3.Real(f"{n}.n{i}")) for i in range(size))
    if "date" in use.kinds:
        dates = tuple(Parsed(z3.Bool(f"{n}.d{i}ok"), z3.Real(f"{n}.d{i}")) for i in range(size))
    addresses = ()
    if "ip" in use.kinds:
        addresses = tuple(
            Address(z3.Int(f"{n}.ip{i}v"), z3.BitVec(f"{n}.ip{i}", 128)) for i in range(size)
        )
    strings = ()
    if "string" in use.kinds or not (numbers or dates or addresses):
        strings = tuple(z3.String(f"{n}.{i}") for i in range(size))
    return Slot(key, z3.Int(f"{n}.count"), strings, numbers, dates, addresses)


def _slot_domain(slot: Slot) -> z3.BoolRef:
    rules = [slot.count >= 0, slot.count <= slot.size]
    for number, date in itertools.zip_longest(slot.numbers, slot.dates):
        if number is not None and date is not None:  # a number is also a date, the same
            rules.append(z3.Implies(number.ok, z3.And(date.ok, date.value == number.value)))
        if date is not None:
            within = z3.And(date.value >= _FIRST_DATE, date.value <= _LAST_DATE)
            plain_date = z3.And(date.ok, z3.Not(number.ok)) if number is not None else date.ok
            rules.append(z3.Implies(plain_date, within))
    for address in slot.addresses:
        rules.append(z3.Or(address.version == 0, address.version == 4, address.version == 6))
        rules.append(z3.Implies(address.version == 4, z3.ULT(address.bits, 2**32)))
    return z3.And(*rules)


def _kind_value(principal: SymbolicPrincipal) -> z3.SeqRef:
    value: z3.SeqRef = literal(KINDS[-1].value)
    for kind in reversed(KINDS[:-1]):
        value = z3.If(principal.of_kind(kind), literal(kind.value), value)
    return value


_DERIVED = {
    "aws:principaltype": lambda p: (z3.BoolVal(True), _kind_value(p)),
    "aws:principalservicename": lambda p: (p.of_kind(Kind.SERVICE), p.name),
    "aws:principalaccount": lambda p: (p.has_account, p.account),
    "aws:principalarn": lambda p: (
        p.has_account,
        z3.If(p.of_kind(Kind.ROLE, Kind.ASSUMED_ROLE), p.role_arn, p.arn),
    ),
    "aws:username": lambda p: (p.of_kind(Kind.USER), p.name),
    "aws:userid": lambda p: (p.is_root, p.account),
}
"""Keys AWS derives from the principal: (for which principals, the value), as the engine
derives them (``Principal.context``)."""
DERIVED_KEYS = frozenset(_DERIVED)


def derived(key: str, principal: SymbolicPrincipal) -> tuple[z3.BoolRef, z3.SeqRef] | None:
    """(for which principals, the value) of a key derived from the principal, else None."""
    build = _DERIVED.get(key)
    return None if build is None else build(principal)


@dataclass(frozen=True)
class Pin:
    """What the request model fixes about a key: absent, one given value, or the principal's
    account (``kms:CallerAccount``); ``choices`` restricts it to one of some texts (and to
    being present, unless ``optional``)."""

    absent: bool = False
    value: str | None = None
    caller_account: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False  # with choices: the key may also be absent


ABSENT = Pin(absent=True)
CALLER_ACCOUNT = Pin(caller_account=True)


class Context:
    """The context of one request: a slot per key the relevant statements read."""

    def __init__(
        self,
        principal: SymbolicPrincipal,
        uses: Mapping[str, Use],
        pins: Mapping[str, Pin] | None = None,
        sizes: Mapping[str, int] | None = None,
    ) -> None:
        self.principal = principal
        self.pins = {k.lower(): v for k, v in (pins or {}).items()}
        self.slots: dict[str, Slot] = {}
        self._views: dict[str, tuple[z3.ArithRef, list[z3.SeqRef]]] = {}
        prefix = principal.scoped("ctx")
        for key, use in uses.items():
            size = (sizes or {}).get(key)
            if size is None:
                size = max(1, use.tests) + use.variable if key in MULTIVALUED else 1
            self.slots[key] = _slot(prefix, key, use, size)

    def domain(self) -> z3.BoolRef:
        rules = [_slot_domain(slot) for slot in self.slots.values()]
        rules += [self._pinned(key, pin) for key, pin in self.pins.items() if key in self.slots]
        return z3.And(*rules)

    def _pinned(self, key: str, pin: Pin) -> z3.BoolRef:
        slot = self.slots[key]
        if pin.absent:
            return slot.count == 0
        if pin.caller_account:
            return z3.If(
                self.principal.has_account,
                z3.And(slot.count == 1, self._equals(slot, self.principal.account)),
                slot.count == 0,
            )
        if pin.value is not None:
            return z3.And(slot.count == 1, self._equals(slot, literal(pin.value)))
        chosen = z3.And(
            slot.count == 1, z3.Or(*(self._equals(slot, literal(c)) for c in pin.choices))
        )
        return z3.Or(slot.count == 0, chosen) if pin.optional else chosen

    @staticmethod
    def _equals(slot: Slot, value: z3.SeqRef) -> z3.BoolRef:
        if not slot.strings:
            raise Unencodable(f"condition key {slot.key} is pinned to text but read as a number")
        return slot.strings[0] == value

    # What the statements see ------------------------------------------------------------------
    def count(self, key: str) -> z3.ArithRef:
        """How many values the statements see for ``key`` (derived keys: one)."""
        return self._seen(key)[0]

    def strings(self, key: str) -> list[z3.SeqRef]:
        """The values the statements see for ``key``, as text."""
        return self._seen(key)[1]

    def _seen(self, key: str) -> tuple[z3.ArithRef, list[z3.SeqRef]]:
        if key not in self._views:
            slot = self.slots[key]
            count, values = slot.count, list(slot.strings)
            found = derived(key, self.principal)
            if found is not None:
                count = z3.If(found[0], 1, slot.count)
                values[0] = z3.If(found[0], found[1], values[0])
            self._views[key] = (count, values)
        return self._views[key]

    def has_value(self, key: str, text: str) -> z3.BoolRef:
        """``key`` holds exactly the one value ``text``."""
        key = key.lower()
        return z3.And(self.count(key) == 1, self.strings(key)[0] == literal(text))

    def parsed(self, key: str, number: bool) -> tuple[Parsed, ...]:
        self._not_derived(key)
        slot = self.slots[key]
        return slot.numbers if number else slot.dates

    def addresses(self, key: str) -> tuple[Address, ...]:
        self._not_derived(key)
        return self.slots[key].addresses

    def _not_derived(self, key: str) -> None:
        if key in DERIVED_KEYS:
            raise Unencodable(f"{key} holds text derived from the principal, not a number")

    # Concrete requests ------------------------------------------------------------------------
    def pin_request(self, request: Request) -> z3.BoolRef:
        """Equal to the concrete context of ``request`` (for the keys with slots)."""
        rules = []
        for key, slot in self.slots.items():
            given = request.get(key)
            values = [given] if isinstance(given, str) else list(given or ())
            if key in DERIVED_KEYS and key in dict(request.principal.context()):
                rules.append(slot.count == 0)  # the engine's derived value is used
                continue
            if len(values) > slot.size:
                raise ValueError(f"{key}: {len(values)} values, slot holds {slot.size}")
            rules.append(slot.count == len(values))
            for i, text in enumerate(values):
                rules.append(_pin_value(slot, i, text))
        return z3.And(*rules)

    def decode(self, model: z3.ModelRef, principal_context: Mapping[str, str]) -> dict[str, object]:
        """The context a model chose: each present key the caller sets, and each pinned key
        (named even where no statement reads it, so a counterexample states it)."""
        context: dict[str, object] = {}
        for key, slot in self.slots.items():
            if key in principal_context:
                continue
            count = model.eval(slot.count, model_completion=True).as_long()
            values = [_decode_value(model, slot, i) for i in range(count)]
            if values:
                context[key] = values if key in MULTIVALUED else values[0]
        for key, pin in self.pins.items():
            if key in context or pin.absent:
                continue
            if pin.caller_account:
                if "aws:principalaccount" in principal_context:
                    context[key] = principal_context["aws:principalaccount"]
            elif pin.value is not None:
                context[key] = pin.value
            elif key not in self.slots:
                context[key] = pin.choices[0]
        return context


def _pin_value(slot: Slot, i: int, text: str) -> z3.BoolRef:
    rules = []
    if slot.strings:
        rules.append(slot.strings[i] == literal(text))
    for parsed, parse in ((slot.numbers, parse_number), (slot.dates, parse_date)):
        if parsed:
            got = parse(text)
            ok = got is not None and math.isfinite(got)
            rules.append(parsed[i].ok == ok)
            if ok:
                rules.append(parsed[i].value == z3.RealVal(Fraction(got)))
            elif got is not None and not math.isnan(got):
                raise ValueError(f"{slot.key}: infinite value {text!r} is outside the model")
    if slot.addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            rules.append(slot.addresses[i].version == 0)
        else:
            rules.append(slot.addresses[i].version == address.version)
            rules.append(slot.addresses[i].bits == int(address))
    return z3.And(*rules)


def _real(model: z3.ModelRef, term: z3.ArithRef) -> float:
    value = model.eval(term, model_completion=True)
    fraction = value.as_fraction() if hasattr(value, "as_fraction") else Fraction(str(value))
    return float(fraction)


def _decode_value(model: z3.ModelRef, slot: Slot, i: int) -> str:
    if slot.strings:
        return decode(model.eval(slot.strings[i], model_completion=True))
    if slot.numbers and z3.is_true(model.eval(slot.numbers[i].ok, model_completion=True)):
        return repr(_real(model, slot.numbers[i].value))
    if slot.dates and z3.is_true(model.eval(slot.dates[i].ok, model_completion=True)):
        moment = datetime.fromtimestamp(_real(model, slot.dates[i].value), UTC)
        return moment.isoformat()
    if slot.addresses:
        version = model.eval(slot.addresses[i].version, model_completion=True).as_long()
        bits = model.eval(slot.addresses[i].bits, model_completion=True).as_long()
        if version == 4:
            return str(ipaddress.IPv4Address(bits))
        if version == 6:
            return str(ipaddress.IPv6Address(bits))
        return "not-an-address"
    return "not-a-number"
