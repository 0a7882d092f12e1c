"""Policy documents parsed and compiled once, then matched against many requests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

import yaml

from harness.policy.conditions import KeyTest, compile_condition
from harness.policy.errors import PolicyError
from harness.policy.patterns import Lookup, Pattern, PatternSet, alternation
from harness.policy.principal import Principal, principal_level
from harness.yaml_safe import safe_load

VARIABLES_VERSION = "2012-10-17"  # policy variables are literal text under older versions
_ACTION = re.compile(r"(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+)\Z")
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
ResourceTest = Callable[[str, Lookup], bool]
"""A Resource element's test (``PatternSet.matches``)."""
ConditionCheck = tuple[str, Callable[[str], object] | None, bool, Callable[[Lookup], bool]]
"""A condition test as plans inline it: the key, ``KeyTest.single`` and ``negated`` for a key
with one string value, and ``KeyTest.holds`` for any other."""
Checks = tuple[
    Callable[[str], object] | None, ResourceTest | None, bool, tuple[ConditionCheck, ...]
]
_ACTIONS_REMEMBERED = 4096  # per policy; AWS has fewer actions than this per service family


class Match(StrEnum):
    """How a resource-policy statement's principal element matched the caller."""

    DIRECT = "direct"  # names the caller, its role, or everyone ("*")
    ACCOUNT = "account"  # names the caller's account: delegation to its IAM policies


def _strings(value: object, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) for i in items):
        raise PolicyError(f"{what} must be a string or a non-empty list of strings")
    return tuple(items)


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A compiled ``Principal`` / ``NotPrincipal``: everyone, or a set of named levels."""

    everyone: bool
    names: frozenset[tuple[str, str]]

    @classmethod
    def parse(cls, raw: object, where: str) -> PrincipalSpec:
        if raw == "*":
            return cls(True, frozenset())
        if not isinstance(raw, dict) or not raw:
            raise PolicyError(f'{where}: Principal must be "*" or an object')
        names: set[tuple[str, str]] = set()
        for kind, values in raw.items():
            if kind not in _PRINCIPAL_TYPES:
                raise PolicyError(f"{where}: unknown principal type {kind!r}")
            for value in _strings(values, f"{where}: Principal {kind}"):
                if value == "*" and kind == "AWS":
                    return cls(True, frozenset())
                if "*" in value or "?" in value:
                    raise PolicyError(
                        f"{where}: wildcards are not allowed in a principal "
                        f'({value!r}); use "*" with a condition instead'
                    )
                names.add(principal_level(kind, value))
        return cls(False, frozenset(names))

    def match(self, principal: Principal) -> Match | None:
        """For ``Principal``: the first level of the caller that is named, if any."""
        if self.everyone:
            return Match.DIRECT
        levels = principal.levels()
        for index, level in enumerate(levels):
            if level in self.names:
                account_level = level[1].startswith("account:") and index > 0
                return Match.ACCOUNT if account_level else Match.DIRECT
        return None

    def exempts(self, principal: Principal) -> bool:
        """For ``NotPrincipal``: the caller escapes only if *every* level of it is named.

        AWS documents that it may check the account, then the role, then the session; a
        ``NotPrincipal`` naming only the role (or only the session) can still deny.
        """
        if self.everyone:
            return True
        levels = principal.levels()
        return bool(levels) and all(level in self.names for level in levels)


PolicyKind = Literal[
    "identity", "resource", "key", "trust", "boundary", "scp", "rcp", "session", "grant", "rule"
]
"""Where a statement comes from; the values of ``harness.evidence.PolicyKind`` (``rule``: a
rule of AWS itself, such as "the root user cannot assume roles", not a policy)."""

KIND_NAMES: dict[PolicyKind, str] = {
    "identity": "identity policy",
    "resource": "resource policy",
    "key": "key policy",
    "trust": "trust policy",
    "boundary": "permissions boundary",
    "scp": "SCP",
    "rcp": "RCP",
    "session": "session policy",
    "grant": "KMS grant",
    "rule": "AWS rule",
}
"""What reasons call each kind of policy, so a reader sees which type decided."""


def _label(ref: str | int, policy: str) -> str:
    name = f"statement {ref!r}" if isinstance(ref, str) else f"statement #{ref}"
    return f"{name} of {policy}"


@dataclass(frozen=True, slots=True)
class StatementRef:
    """One statement of one policy, as decisions cite it."""

    policy: str
    kind: PolicyKind
    sid: str | int  # the Sid, or the statement's index when it has none
    effect: str  # "Allow" or "Deny"
    label: str = field(init=False, repr=False, compare=False)
    """What reasons call it (worked out once: a reason names its statement every time)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _label(self.sid, self.policy))  # frozen: set once


@dataclass(frozen=True, slots=True)
class Statement:
    """One compiled statement; ``label`` is what reports call it."""

    policy: str
    index: int
    sid: str | None
    allow: bool
    principal: PrincipalSpec | None
    not_principal: bool
    actions: re.Pattern[str]  # all of ``action_patterns`` in one regex, for speed
    action_patterns: tuple[Pattern, ...]
    not_action: bool
    resources: tuple[Pattern, ...] | None
    not_resource: bool
    conditions: tuple[KeyTest, ...]
    _cited: dict[PolicyKind, StatementRef] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _resource_test: PatternSet | None = field(default=None, init=False, repr=False, compare=False)
    """The Resource/NotResource element as one test; None when it holds for every resource."""
    unconditional: bool = field(default=False, init=False, repr=False, compare=False)
    """Holds for every resource and context (``holds_for`` need not be asked)."""
    label: str = field(default="", init=False, repr=False, compare=False)
    """What reports call it (worked out once: reasons name statements every time)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _label(self.ref, self.policy))  # frozen: set once
        resources = None if self.resources is None else PatternSet(self.resources)
        if resources is not None and (self.not_resource or not resources.match_all):
            object.__setattr__(self, "_resource_test", resources)  # frozen: set once
        unconditional = self._resource_test is None and not self.conditions
        object.__setattr__(self, "unconditional", unconditional)

    @property
    def ref(self) -> str | int:
        return self.sid if self.sid else self.index

    def cite(self, kind: PolicyKind) -> StatementRef:
        """The reference decisions cite, made once per kind (every decision cites it)."""
        ref = self._cited.get(kind)
        if ref is None:
            ref = self._cited[kind] = StatementRef(self.policy, kind, self.ref, self.effect)
        return ref

    @property
    def effect(self) -> str:
        return "Allow" if self.allow else "Deny"

    def covers(self, action: str, resource: str, lookup: Lookup) -> bool:
        """Action, resource and conditions apply (the principal is checked separately)."""
        return self.acts_on(action) and self.holds_for(resource, lookup)

    def acts_on(self, action: str) -> bool:
        """The Action (or NotAction) element applies to ``action``."""
        return (self.actions.match(action) is None) == self.not_action

    def checks(self) -> Checks:
        """``holds_for`` in parts, for a caller that inlines it (the engine's plans test
        statement after statement, request after request): the resource test as one call of
        the resource alone (``PatternSet.quick``), else as a call with the context (both
        None: holds for every resource), whose result must differ from the third part; and
        the condition tests, which must all hold (``ConditionCheck``)."""
        resources = self._resource_test
        quick = None if resources is None else resources.quick
        return (
            quick,
            None if resources is None or quick is not None else resources.matches,
            self.not_resource,
            tuple([(test.key, test.single, test.negated, test.holds) for test in self.conditions]),
        )

    def holds_for(self, resource: str, lookup: Lookup) -> bool:
        """Resource and conditions apply (see ``Policy.for_action`` for the action). The
        engine's plans test the same parts, from ``checks``, inline."""
        # A loop rather than all() over a generator: a generator costs more than the test it
        # wraps.
        resources = self._resource_test
        if resources is not None and resources.matches(resource, lookup) == self.not_resource:
            return False
        for test in self.conditions:  # noqa: SIM110
            if not test.holds(lookup):
                return False
        return True

    def names_exactly(self, principal: Principal) -> bool:
        """The principal element names this very user or session ARN (not its role/account)."""
        return (
            self.principal is not None
            and not self.not_principal
            and ("AWS", principal.arn) in self.principal.names
        )

    def principal_match(self, principal: Principal) -> Match | None:
        """How this resource-policy statement names the caller (None: it does not apply)."""
        if self.principal is None:
            return None
        if self.not_principal:
            return None if self.principal.exempts(principal) else Match.DIRECT
        return self.principal.match(principal)


def _compile_statement(raw: object, index: int, policy: str, variables: bool) -> Statement:
    where = f"{policy}, statement #{index}"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a statement must be an object")
    sid = raw.get("Sid")
    if sid is not None:
        where = f"{policy}, statement {sid!r}"
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be Allow or Deny, not {effect!r}")
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError(f"{where}: exactly one of Action and NotAction is required")
    if "Resource" in raw and "NotResource" in raw:
        raise PolicyError(f"{where}: Resource and NotResource are exclusive")
    if "Principal" in raw and "NotPrincipal" in raw:
        raise PolicyError(f"{where}: Principal and NotPrincipal are exclusive")
    actions = _strings(raw.get("Action", raw.get("NotAction")), f"{where}: Action")
    for action in actions:
        if not _ACTION.match(action):
            raise PolicyError(f"{where}: malformed action {action!r}")
    principal_raw = raw.get("Principal", raw.get("NotPrincipal"))
    resource_raw = raw.get("Resource", raw.get("NotResource"))
    resources = None
    if resource_raw is not None:
        resources = tuple(
            Pattern(r, arn=True, variables=variables)
            for r in _strings(resource_raw, f"{where}: Resource")
        )
    return Statement(
        policy=policy,
        index=index,
        sid=sid,
        allow=effect == "Allow",
        principal=None if principal_raw is None else PrincipalSpec.parse(principal_raw, where),
        not_principal="NotPrincipal" in raw,
        actions=alternation(actions, ignore_case=True),
        action_patterns=tuple(Pattern(a, ignore_case=True) for a in actions),
        not_action="NotAction" in raw,
        resources=resources,
        not_resource="NotResource" in raw,
        conditions=compile_condition(raw.get("Condition"), variables=variables, where=where),
    )


def _load(doc: str | Mapping[str, Any] | list[Any], name: str) -> Any:
    if not isinstance(doc, str):
        return doc
    try:
        return json.loads(doc)
    except json.JSONDecodeError:
        pass
    try:
        return safe_load(doc)
    except yaml.YAMLError as error:
        raise PolicyError(f"{name}: neither JSON nor YAML: {error}") from error


@dataclass(frozen=True, slots=True, eq=False)
class Policy:
    """A named, compiled policy. ``Policy.parse`` accepts what AWS accepts, and more forms:
    a document, a single statement, or a list of statements, as JSON/YAML text or objects.

    Compared and hashed by identity: it is immutable, so it stands for its content (the
    engine keys its plans by it), and two compilations of one document never compared equal
    anyway (their patterns are distinct objects).
    """

    name: str
    statements: tuple[Statement, ...]
    version: str | None = None
    _by_action: dict[str, tuple[Statement, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _by_caller: dict[tuple[str, int], tuple[Principal, tuple[tuple[Statement, Match], ...]]] = (
        field(default_factory=dict, init=False, repr=False, compare=False)
    )
    checked_as: set[bool] = field(default_factory=set, init=False, repr=False, compare=False)
    """The principal-element checks passed (True: as a resource-based policy), run once each."""

    @classmethod
    def parse(cls, doc: str | Mapping[str, Any] | list[Any], name: str = "policy") -> Policy:
        loaded = _load(doc, name)
        version: str | None = None
        if isinstance(loaded, dict) and "Statement" in loaded:
            version = loaded.get("Version")
            raw_statements = loaded["Statement"]
        elif isinstance(loaded, dict | list):
            raw_statements = loaded
            version = VARIABLES_VERSION  # bare statements come from templates, not legacy text
        else:
            raise PolicyError(f"{name}: a policy must be an object or a list of statements")
        if isinstance(raw_statements, dict):
            raw_statements = [raw_statements]
        if not isinstance(raw_statements, list) or not raw_statements:
            raise PolicyError(f"{name}: Statement must be a statement or a non-empty list")
        variables = version == VARIABLES_VERSION
        statements = tuple(
            _compile_statement(raw, index, name, variables)
            for index, raw in enumerate(raw_statements)
        )
        return cls(name, statements, version)

    @classmethod
    def coerce(cls, value: Policy | str | Mapping[str, Any], name: str) -> Policy:
        """Accept an already parsed policy or parse a document; policy text is compiled once
        (callers such as the gateway pass the same stored documents on every request)."""
        if isinstance(value, Policy):
            return value
        if isinstance(value, str):
            return _parse_text(value, name)
        return cls.parse(value, name)

    def for_action(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action or NotAction element applies to ``action``, worked out
        once per action: a policy meets the same few actions on request after request."""
        found = self._by_action.get(action)
        if found is None:
            if len(self._by_action) >= _ACTIONS_REMEMBERED:
                self._by_action.clear()
            found = tuple(s for s in self.statements if s.acts_on(action))
            self._by_action[action] = found
        return found

    def for_caller(self, action: str, principal: Principal) -> tuple[tuple[Statement, Match], ...]:
        """For a resource-based policy: the statements that act on ``action`` and name
        ``principal``, with how they name it; worked out once per action and caller."""
        # Keyed by the principal's id, whose object the entry keeps (so the id is not reused)
        # and is checked against: hashing a principal is a Python call, an id is not.
        key = (action, id(principal))
        found = self._by_caller.get(key)
        if found is None or found[0] is not principal:
            if len(self._by_caller) >= _ACTIONS_REMEMBERED:
                self._by_caller.clear()
            statements = tuple(
                (s, level)
                for s in self.for_action(action)
                if (level := s.principal_match(principal)) is not None
            )
            found = self._by_caller[key] = (principal, statements)
        return found[1]


@lru_cache(maxsize=4096)
def _parse_text(text: str, name: str) -> Policy:
    return Policy.parse(text, name)


def policies(values: Iterable[Policy | str | Mapping[str, Any]], kind: str) -> tuple[Policy, ...]:
    """Coerce a list of policies, naming unparsed ones ``<kind> #i``."""
    coerced = tuple(values)
    for value in coerced:  # usually compiled already (a loop: cheaper than all() here)
        if type(value) is not Policy:
            return tuple(Policy.coerce(v, f"{kind} #{i}") for i, v in enumerate(coerced))
    return coerced
