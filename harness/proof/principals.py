"""Any principal, as z3 terms: its kind, account, names and ARN, and how policies name it.

The domain is every principal AWS can authenticate in the ``aws`` partition: account roots,
IAM users and roles (any path), role sessions, federated users, service principals, web
identities and anonymous callers, with the name syntax IAM enforces. How a ``Principal`` /
``NotPrincipal`` element names one follows :class:`harness.policy.policy.PrincipalSpec` level
by level (the principal itself, its role, its account), compared as the engine compares its
level strings, so the model and the engine read principal elements alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3

from harness.policy.policy import PrincipalSpec, Statement
from harness.policy.principal import Kind, Principal
from harness.proof.logic import Term, all_of, any_of, negate
from harness.proof.text import any_char, decode, literal

KINDS: tuple[Kind, ...] = tuple(Kind)
REQUESTERS = tuple(k for k in KINDS if k is not Kind.ROLE)
"""The kinds of principal that make requests: a role acts through its sessions (the engine's
``Role`` kind, a role standing for any session, is kept for the differential test)."""
WITH_ACCOUNT = (Kind.ROOT, Kind.USER, Kind.ROLE, Kind.ASSUMED_ROLE, Kind.FEDERATED_USER)
_ROLE_LEVEL = (Kind.ROLE, Kind.ASSUMED_ROLE)
_OWN_LEVEL = (Kind.USER, Kind.ASSUMED_ROLE, Kind.FEDERATED_USER)
_NAME_CHARS = "A-Za-z0-9_+=,.@-"  # IAM user, role and session names: [\w+=,.@-]
_counter = itertools.count()
_PROTOTYPES: dict[tuple[Kind, ...], tuple[SymbolicPrincipal, z3.BoolRef]] = {}
_MEMOS: dict[tuple[str, tuple[Kind, ...]], dict[object, object]] = {}  # see fresh


def _class(spec: str) -> z3.ReRef:
    """A character class given as ranges and characters, e.g. ``a-z0-9.-``."""
    options: list[z3.ReRef] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            options.append(z3.Range(spec[i], spec[i + 2]))
            i += 3
        else:
            options.append(z3.Re(literal(spec[i])))
            i += 1
    return z3.Union(*options) if len(options) > 1 else options[0]


NAME = z3.Plus(_class(_NAME_CHARS))
SESSION = z3.Concat(_class(_NAME_CHARS), NAME)  # at least two characters
SERVICE_NAME = z3.Plus(_class("a-z0-9.-"))
_PATH_SEGMENT = z3.Plus(z3.Union(z3.Range("!", "."), z3.Range("0", "~")))  # printable, no "/"
PATH = z3.Star(z3.Concat(_PATH_SEGMENT, z3.Re(literal("/"))))
ACCOUNT = z3.Loop(z3.Range("0", "9"), 12, 12)


@dataclass(frozen=True)
class SymbolicPrincipal:
    """A principal the solver chooses; :meth:`domain` constrains it to real principals."""

    kind: z3.ArithRef
    account: z3.SeqRef
    name: z3.SeqRef  # user, role or service name
    path: z3.SeqRef  # a user's or role's path, without the leading "/"
    session: z3.SeqRef  # a role session's or federated user's name
    provider: z3.SeqRef  # a web identity's provider
    arn: z3.SeqRef
    role_arn: z3.SeqRef
    kinds: tuple[Kind, ...] = REQUESTERS
    _memo: dict[object, object] = field(default_factory=dict, compare=False, repr=False)
    _counts: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def fresh(cls, kinds: tuple[Kind, ...] = REQUESTERS, name: str = "") -> SymbolicPrincipal:
        """Any principal of ``kinds`` (by default, any that makes requests), its variables
        named after ``name`` (by default, a name not used before). Principals of one name
        share their terms: the same variables make the same terms."""
        n = name or f"principal{next(_counter)}"
        names = ("account", "name", "path", "session", "provider", "arn", "role")
        memo = _MEMOS.setdefault((n, kinds), {}) if name else {}
        strings = (z3.String(f"{n}.{part}") for part in names)
        return cls(z3.Int(f"{n}.kind"), *strings, kinds=kinds, _memo=memo)

    def of_kind(self, *kinds: Kind) -> z3.BoolRef:
        return self._memoized(kinds, lambda: z3.Or(*(self.kind == KINDS.index(k) for k in kinds)))

    def scoped(self, what: str) -> str:
        """A name not used before among this principal's: ``what`` and a count, after the
        principal's (variables named by their place, so a goal built again is the same
        question, see :func:`harness.proof.prover._check`)."""
        count = self._counts.get(what, 0)
        self._counts[what] = count + 1
        return f"{self.kind.decl().name().removesuffix('.kind')}.{what}{count}"

    def _memoized(self, key: object, build: Callable[[], Any]) -> Any:
        """Terms are built once per principal (a goal's requests share it; see :meth:`fresh`)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    @property
    def has_account(self) -> z3.BoolRef:
        """The principal belongs to an account and holds identity policies."""
        return self.of_kind(*WITH_ACCOUNT)

    @property
    def is_root(self) -> z3.BoolRef:
        return self.of_kind(Kind.ROOT)

    def in_account(self, *accounts: str) -> z3.BoolRef:
        """Its account is one of ``accounts``."""
        return self._memoized(
            ("in_account", accounts), lambda: z3.Or(*(self.account == literal(a) for a in accounts))
        )

    def is_one_of(self, *names: tuple[str, str]) -> z3.BoolRef:
        """Its account and name are one of ``names`` (pairs of account and name)."""
        return self._memoized(("is_one_of", names), lambda: z3.Or(*map(self._has_name, names)))

    def _has_name(self, name: tuple[str, str]) -> z3.BoolRef:
        account, own = name
        return z3.And(self.account == literal(account), self.name == literal(own))

    def role_arn_contains(self, text: str) -> z3.BoolRef:
        """The ARN of its role (of a role or role session) contains ``text``."""
        return self._memoized(("role_arn", text), lambda: z3.Contains(self.role_arn, literal(text)))

    def domain(self) -> z3.BoolRef:
        """Every principal AWS can authenticate, with the ARNs AWS gives it (built once per
        set of kinds, then copied onto each principal's variables)."""
        prototype = _PROTOTYPES.get(self.kinds)
        if prototype is None:
            prototype = _PROTOTYPES[self.kinds] = (self, self._domain())
        if prototype[0] is self:
            return prototype[1]
        return self._memoized(
            "domain", lambda: z3.substitute(prototype[1], *self._onto(prototype[0]))
        )

    def _onto(self, other: SymbolicPrincipal) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
        names = ("kind", "account", "name", "path", "session", "provider", "arn", "role_arn")
        return [(getattr(other, n), getattr(self, n)) for n in names]

    def _domain(self) -> z3.BoolRef:
        a, n = self.account, self.name
        iam = literal("arn:aws:iam::")
        sts = literal("arn:aws:sts::")
        per_kind = {
            Kind.ROOT: self.arn == z3.Concat(iam, a, literal(":root")),
            Kind.USER: z3.And(
                self.arn == z3.Concat(iam, a, literal(":user/"), self.path, n),
                z3.InRe(n, NAME),
                z3.InRe(self.path, PATH),
            ),
            Kind.ROLE: z3.And(
                self.arn == z3.Concat(iam, a, literal(":role/"), self.path, n),
                self.role_arn == self.arn,
                z3.InRe(n, NAME),
                z3.InRe(self.path, PATH),
            ),
            Kind.ASSUMED_ROLE: z3.And(
                self.arn
                == z3.Concat(sts, a, literal(":assumed-role/"), n, literal("/"), self.session),
                self.role_arn == z3.Concat(iam, a, literal(":role/"), n),
                z3.InRe(n, NAME),
                z3.InRe(self.session, SESSION),
            ),
            Kind.FEDERATED_USER: z3.And(
                self.arn == z3.Concat(sts, a, literal(":federated-user/"), self.session),
                z3.InRe(self.session, SESSION),
            ),
            Kind.SERVICE: z3.And(self.arn == n, z3.InRe(n, SERVICE_NAME)),
            Kind.WEB_IDENTITY: z3.And(
                self.arn == self.provider, z3.InRe(self.provider, z3.Plus(any_char()))
            ),
            Kind.ANONYMOUS: self.arn == literal("anonymous"),
        }
        return z3.And(
            self.of_kind(*self.kinds),
            z3.Implies(self.has_account, z3.InRe(a, ACCOUNT)),
            *(z3.Implies(self.of_kind(kind), rule) for kind, rule in per_kind.items()),
        )

    # How policies name it -------------------------------------------------------------------
    def _level(self, entry: tuple[str, str]) -> tuple[Term, Term, Term]:
        """Whether ``entry`` (a normalised principal-element name) is this principal's own
        level, its role level, or its account level (see ``Principal.levels``)."""
        return self._memoized(entry, lambda: self._entry_level(entry))

    def _entry_level(self, entry: tuple[str, str]) -> tuple[Term, Term, Term]:
        kind, value = entry
        if kind == "Service":
            return all_of((self.of_kind(Kind.SERVICE), self.name == literal(value))), False, False
        if kind == "Federated":
            own = all_of((self.of_kind(Kind.WEB_IDENTITY), self.provider == literal(value)))
            return own, False, False
        if kind != "AWS":  # CanonicalUser: no principal of the model is named so
            return False, False, False
        own = all_of((self.of_kind(*_OWN_LEVEL), self.arn == literal(value)))
        role: Term = False
        if value.startswith("role:") and len(value) > 18 and value[17] == ":":
            role = all_of(
                (
                    self.of_kind(*_ROLE_LEVEL),
                    self.account == literal(value[5:17]),
                    self.name == literal(value[18:]),
                )
            )
        account: Term = False
        if value.startswith("account:"):
            account = all_of((self.has_account, self.account == literal(value[8:])))
        return own, role, account

    def _levels(self, spec: PrincipalSpec) -> tuple[Term, Term, Term]:
        levels = [self._level(entry) for entry in sorted(spec.names)]
        return (
            any_of(lv[0] for lv in levels),
            any_of(lv[1] for lv in levels),
            any_of(lv[2] for lv in levels),
        )

    def named(self, spec: PrincipalSpec) -> tuple[Term, Term]:
        """For ``Principal``: (named directly, named only by its account: delegation)."""
        return self._memoized(("named", spec), lambda: self._named(spec))

    def _named(self, spec: PrincipalSpec) -> tuple[Term, Term]:
        if spec.everyone:
            return True, False
        own, role, account = self._levels(spec)
        direct = any_of((own, role, all_of((self.is_root, account))))
        return direct, all_of((negate(direct), negate(self.is_root), account))

    def exempted(self, spec: PrincipalSpec) -> Term:
        """For ``NotPrincipal``: every level of the principal is named."""
        if spec.everyone:
            return True
        own, role, account = self._levels(spec)
        return any_of(
            (
                all_of((self.of_kind(Kind.SERVICE, Kind.WEB_IDENTITY), own)),
                all_of((self.is_root, account)),
                all_of((self.of_kind(Kind.USER, Kind.FEDERATED_USER), own, account)),
                all_of((self.of_kind(Kind.ROLE), role, account)),
                all_of((self.of_kind(Kind.ASSUMED_ROLE), own, role, account)),
            )
        )

    def names_exactly(self, statement: Statement) -> Term:
        """The statement's principal element holds this very ARN (not its role/account)."""
        if statement.principal is None or statement.not_principal:
            return False
        entries = [v for k, v in statement.principal.names if k == "AWS"]
        return any_of(self.arn == literal(v) for v in entries)

    def is_named_by(self, arn: str) -> z3.BoolRef:
        """The principal is the one an allow-list ARN (or service name) stands for: a role
        ARN stands for the role and every session of it."""
        return self._memoized(("is_named_by", arn), lambda: self._is_named_by(arn))

    def _is_named_by(self, arn: str) -> z3.BoolRef:
        if "." in arn and not arn.startswith("arn:"):
            return self.of_kind(Kind.SERVICE) & (self.name == literal(arn))
        named = Principal.from_arn(arn)
        if named.kind is Kind.ROLE:
            return z3.And(
                self.of_kind(*_ROLE_LEVEL),
                self.account == literal(named.account or ""),
                self.name == literal(named.name or ""),
            )
        if named.kind is Kind.ROOT:
            return self.is_root & (self.account == literal(named.account or ""))
        return self.of_kind(named.kind) & (self.arn == literal(arn))

    # Concrete principals --------------------------------------------------------------------
    def pin(self, principal: Principal) -> z3.BoolRef:
        """Equal to the concrete ``principal`` (the differential test decides one request)."""
        rest = (principal.arn.split(":", 5) + [""] * 6)[5]
        fields: list[z3.BoolRef] = [
            self.kind == KINDS.index(principal.kind),
            self.arn == literal(principal.arn),
        ]
        if principal.account is not None:
            fields.append(self.account == literal(principal.account))
        if principal.kind in (Kind.USER, Kind.ROLE):
            path_and_name = rest.split("/", 1)[1]
            fields += [
                self.name == literal(principal.name or ""),
                self.path == literal(path_and_name[: -len(principal.name or "")]),
            ]
        elif principal.kind is Kind.ASSUMED_ROLE:
            fields += [
                self.name == literal(principal.name or ""),
                self.session == literal(principal.session or ""),
            ]
        elif principal.kind is Kind.FEDERATED_USER:
            fields.append(self.session == literal(principal.session or ""))
        elif principal.kind is Kind.SERVICE:
            fields.append(self.name == literal(principal.arn))
        elif principal.kind is Kind.WEB_IDENTITY:
            fields.append(self.provider == literal(principal.arn))
        return z3.And(*fields)

    def decode(self, model: z3.ModelRef) -> Principal:
        """The principal a model chose, as the engine builds it."""
        kind = KINDS[model.eval(self.kind, model_completion=True).as_long()]
        arn = decode(model.eval(self.arn, model_completion=True))
        if kind is Kind.SERVICE:
            return Principal.service(arn)
        if kind is Kind.WEB_IDENTITY:
            return Principal.federated(arn)
        if kind is Kind.ANONYMOUS:
            return Principal.anonymous()
        return Principal.from_arn(arn)


def named_by(arn: str, principal: Principal) -> bool:
    """The concrete twin of :meth:`SymbolicPrincipal.is_named_by`."""
    if "." in arn and not arn.startswith("arn:"):
        return principal.kind is Kind.SERVICE and principal.arn == arn
    named = Principal.from_arn(arn)
    if named.kind is Kind.ROLE:
        return (
            principal.kind in _ROLE_LEVEL
            and principal.account == named.account
            and principal.name == named.name
        )
    if named.kind is Kind.ROOT:
        return principal.is_root and principal.account == named.account
    return principal.kind is named.kind and principal.arn == arn
