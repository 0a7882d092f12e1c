"""The promises as properties of a :class:`System`, read from the allow-list.

* ``key-use``: no principal outside the allow-list may use the key (each cryptographic
  action and ``kms:CreateGrant``, in any context); an allow-listed principal only its listed
  actions, save the KMS call S3 makes for it where its bucket cells need one.
* ``encryption``: every ``s3:PutObject`` (the action of PutObject, CopyObject and
  CreateMultipartUpload) into the bucket that is not SSE-KMS under this key is denied.
* ``tls``: every S3 request without TLS to the bucket or its objects is denied.
* ``object-access``: no bucket policy statement lets a principal outside the allow-list
  read or write objects (principals of other accounts, or without identity policies: those
  only a bucket policy can let in).
* ``trust``: each role can be assumed only by the principals and services the allow-list
  names for it.
* ``liveness``: each cell the allow-list allows is satisfiable, shown by a request.

Each is proven twice (:class:`Variant`): with every principal holding an identity policy that
allows everything (the resource-side policies alone decide), and with the identity policies
the system's roles hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import z3

from harness.policy.access_matrix import KEY_CALL_CONTEXT, S3_KMS_CALL, Allowlist, Expected
from harness.policy.evaluate import Request, ResourceKind
from harness.policy.patterns import Pattern
from harness.policy.principal import Kind, Principal
from harness.proof.context import CALLER_ACCOUNT, Pin
from harness.proof.decision import Guardrails, Held, Identity, Query, allowed
from harness.proof.logic import Term, all_of, any_of, negate
from harness.proof.partition import representatives
from harness.proof.principals import SymbolicPrincipal
from harness.proof.request import SymbolicRequest, Text, may_apply
from harness.proof.system import ALLOW_ALL, Document, Role, System
from harness.proof.text import literal, pattern_matches, pattern_regex

ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity")
SSE = "s3:x-amz-server-side-encryption"
SSE_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"
OTHER_KEY_ID = "00000000-0000-4000-8000-0000000000ff"  # a key that is not the artifact key
VIA = "kms:ViaService"
TLS = "aws:SecureTransport"
_BOOLEAN = ("true", "false")
_AWS_SETS = {
    TLS: Pin(choices=_BOOLEAN),  # on every request
    "aws:ViaAWSService": Pin(choices=_BOOLEAN, optional=True),
    "kms:GrantIsForAWSResource": Pin(choices=_BOOLEAN, optional=True),
}
"""Keys AWS sets, with the values it writes (the caller cannot choose "TRUE")."""
REPLAYABLE_S3 = ("s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:GetBucketPolicy")
"""S3 actions a counterexample preferably names: the replay knows the calls that make them."""
_S3_ACTION = Pattern("s3:?*")  # any action of S3
GOAL = "goal"
"""The name of every goal's principal, after which its other variables are named (each
goal is asked alone): a goal built again, for another property or system that reads the same
statements, is the same question, which the prover answers once (prover._check)."""


class Variant(StrEnum):
    """Whose identity policies the proof assumes."""

    RESOURCE_SIDE = "resource side"  # everyone holds an identity policy allowing everything
    DEPLOYED = "deployed identities"  # the system's roles hold their own; others the worst case


@dataclass(frozen=True)
class Check:
    """One request of a goal and what decides it."""

    request: SymbolicRequest
    query: Query

    @cached_property
    def allowed(self) -> Term:
        return allowed(self.query, self.request)


@dataclass
class Goal:
    """A question for the solver: is ``condition`` satisfiable with the checks' domains?
    For a safety property it describes a violation; for liveness, a witness."""

    principal: SymbolicPrincipal
    checks: tuple[Check, ...]
    condition: Term
    preferences: tuple[z3.BoolRef, ...] = ()  # tried in turn, to show a realistic request
    shown: tuple[Request, ...] = ()  # liveness: the requests shown if none is allowed
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Property:
    """A claim, and how to ask the solver about it for each variant: the claim holds when
    no goal's condition is satisfiable (for liveness: when one goal's is)."""

    id: str
    group: str
    promise: int  # of DESIGN.md section 1
    claim: str
    goals: Callable[[Variant], list[Goal]]  # one per class of request (see partition)
    reads: tuple[Document, ...] = field(default=(), compare=False)
    services: frozenset[str] = frozenset()  # whose actions it asks about
    liveness: bool = False


def _aws_pins(*more: dict[str, Pin]) -> dict[str, Pin]:
    pins = dict(_AWS_SETS)
    for extra in more:
        pins |= extra
    return pins


class Properties:
    """The properties of ``system`` under ``allowlist`` (bound to the system's names);
    ``accounts``: where a counterexample's principal preferably comes from."""

    def __init__(self, system: System, allowlist: Allowlist, accounts: Sequence[str] = ()) -> None:
        self.system = system
        self.allowlist = allowlist
        self.accounts = tuple(accounts)
        self.listed = [p for p in allowlist.principals if not (p.canary or p.deployer)]
        self._domains: dict[int, z3.ReRef] = {}  # symbolic resources: the regex of each
        self._key_checks: dict[tuple[Variant, str], Check] = {}  # see _key_check
        self.canaries = [
            Principal.from_arn(c.arn)
            for c in allowlist.principals
            if c.canary and Principal.from_arn(c.arn).kind is Kind.ROLE
        ]

    def all(self) -> list[Property]:
        found = [*self.key_use(), self.encryption(), self.tls(), *self.object_access()]
        found += self.trust()
        if self.system.whole:
            found += self.liveness()
        return found

    # Identities -----------------------------------------------------------------------------
    def identity(self, variant: Variant) -> tuple[Identity, tuple[str, ...]]:
        """Who holds which identity policies and boundaries, and what the proof assumed
        about it (and about the SCPs)."""
        assumed = list(self._guardrail_notes())
        if variant is Variant.RESOURCE_SIDE:
            return Identity(Held((ALLOW_ALL,))), tuple(assumed)
        holders: list[tuple[str, Held]] = []
        for role in self.system.roles:
            policies = tuple(d.policy for d in role.identity)
            if role.unread:
                assumed.append(
                    f"{role.arn} holds {', '.join(role.unread)}, not read: taken as allowing "
                    "everything"
                )
                policies = (ALLOW_ALL,)
            if role.unread_boundary:
                assumed.append(
                    f"{role.arn} has the permissions boundary {role.unread_boundary}, not "
                    "read: taken as no boundary"
                )
            boundary = None if role.boundary is None else role.boundary.policy
            holders.append((role.arn, Held(policies, boundary)))
        system_roles = {role.arn for role in self.system.roles}
        for expected in self.allowlist.principals:
            if expected.identity is not None and expected.arn not in system_roles:
                holders.append((expected.arn, Held((expected.identity,))))
        return Identity(Held((ALLOW_ALL,)), tuple(holders)), tuple(assumed)

    def _guardrail_notes(self) -> Iterator[str]:
        org = self.system.organization
        if org is None:
            return
        names = ", ".join(d.name for d in self.system.scps)
        members = ", ".join(a for a in org.parents if a != org.management_account)
        yield (
            f"{names} attached to accounts {members} (FullAWSAccess at every level; "
            f"{org.management_account}, the management account, exempt), as harness run "
            "--scp attaches them"
        )

    def _query(
        self, variant: Variant, document: Document | None, account: str, kind: ResourceKind
    ) -> Query:
        identity, _ = self.identity(variant)
        policy = None if document is None else document.policy
        return Query(
            identity, policy, account, kind, Guardrails(organization=self.system.organization)
        )

    def _key_query(self, variant: Variant) -> Query:
        account = self.system.key_arn.split(":")[4]
        return self._query(variant, self.system.key_policy, account, "kms-key")

    def _bucket_query(self, variant: Variant) -> Query:
        bucket = self.system.bucket_policy
        return self._query(variant, bucket, self.system.bucket_account, "generic")

    def _goal(
        self,
        variant: Variant,
        principal: SymbolicPrincipal,
        checks: Sequence[Check],
        condition: z3.BoolRef,
        preferences: Sequence[z3.BoolRef],
        shown: Sequence[Request] = (),
    ) -> Goal:
        _, assumed = self.identity(variant)
        return Goal(principal, tuple(checks), condition, tuple(preferences), tuple(shown), assumed)

    # Preferences: counterexamples the replay can make ----------------------------------------
    def _who(self, principal: SymbolicPrincipal) -> list[z3.BoolRef]:
        """A session of a canary role (one of the allow-list's), else of a role in one of the
        system's accounts."""
        preferences = [principal.of_kind(Kind.ASSUMED_ROLE)]
        if self.canaries:  # roles that exist, so a replay can act as them
            preferences.append(
                principal.is_one_of(*((c.account or "", c.name or "") for c in self.canaries))
            )
        if self.accounts:
            preferences.append(principal.in_account(*self.accounts))
        return [*preferences, principal.session == literal("proof")]

    @staticmethod
    def _plain(*checks: Check) -> list[z3.BoolRef]:
        """No context key the caller need not set; TLS on where the caller chooses."""
        preferences = []
        for check in checks:
            context = check.request.context
            free = [k for k, pin in context.pins.items() if pin.optional and k in context.slots]
            free += [k for k in context.slots if k not in context.pins]
            preferences.append(z3.And(True, *(context.slots[k].count == 0 for k in free)))
            tls = context.pins.get(TLS.lower())
            if TLS.lower() in context.slots and (tls is None or tls.choices):
                preferences.append(context.has_value(TLS, "true"))
        return preferences

    def _sendable(self, check: Check) -> z3.BoolRef:
        """Encryption headers a put can send, so a replay can make the request: none,
        ``AES256`` alone, or ``aws:kms`` with no key id, this key's ARN or another key's."""
        context = check.request.context
        no_key = context.count(SSE_KEY.lower()) == 0
        account = self.system.key_arn.split(":")[4]
        other = f"arn:aws:kms:{self.system.region}:{account}:key/{OTHER_KEY_ID}"
        return z3.Or(
            z3.And(context.count(SSE.lower()) == 0, no_key),
            z3.And(context.has_value(SSE, "AES256"), no_key),
            z3.And(
                context.has_value(SSE, "aws:kms"),
                z3.Or(
                    no_key,
                    context.has_value(SSE_KEY, self.system.key_arn),
                    context.has_value(SSE_KEY, other),
                ),
            ),
        )

    # Requests over classes of objects and actions --------------------------------------------
    def _objects(
        self, query: Query, action: str, extra: Sequence[Pattern] = (), bucket: bool = False
    ) -> list[Text]:
        """A resource per class of the bucket's objects (and the bucket) the statements that
        may apply to ``action`` tell apart; symbolic where a pattern has variables."""
        arn = self.system.bucket_arn
        domain = [Pattern(f"{arn}/?*")] + ([Pattern(arn)] if bucket else [])
        relevant = [s for s in query.statements() if may_apply(s, action, None)]
        patterns = [p for s in relevant for p in s.resources or ()]
        if any(p.has_variables for p in patterns):
            resource = z3.String(f"{GOAL}.{'bucket-or-object' if bucket else 'object'}")
            self._domains[resource.get_id()] = z3.Union(*(pattern_regex(d) for d in domain))
            return [resource]
        prefer = [f"{arn}/{k}" for k in self.allowlist.objects.values()]
        prefer += [arn, f"{arn}/proof/object"]
        found = representatives(domain, [*patterns, *extra], prefer)
        return sorted(found, key=lambda r: prefer.index(r) if r in prefer else len(prefer))

    def _request(self, principal, action, resource, query, pins, keys=()) -> SymbolicRequest:
        domain = None if isinstance(resource, str) else self._domains[resource.get_id()]
        return SymbolicRequest.build(
            principal,
            action,
            resource,
            query.statements(),
            _aws_pins(pins),
            resource_domain=domain,
            extra_keys=keys,
        )

    # key-use ---------------------------------------------------------------------------------
    def key_use(self) -> Iterator[Property]:
        reads = self._reads(self.system.key_policy)
        for action in self.allowlist.key_actions:
            yield Property(
                f"key-use/{action}/others",
                "key-use",
                2,
                f"{action} on the key is denied to every principal the allow-list does not "
                "name, in every context",
                lambda variant, action=action: [self._key_others(variant, action)],
                reads,
                frozenset({"kms"}),
            )
            for expected in self.listed:
                if action in expected.key:
                    continue
                through = " except through S3" if self._through_s3(expected, action) else ""
                yield Property(
                    f"key-use/{action}/{expected.name}",
                    "key-use",
                    2,
                    f"{expected.name} may not call {action} on the key{through}",
                    lambda variant, action=action, expected=expected: [
                        self._key_listed(variant, action, expected)
                    ],
                    reads,
                    frozenset({"kms"}),
                )

    def _key_check(self, variant: Variant, action: str) -> Check:
        """``action`` on the key by a goal's principal (its goal's only request): built and
        encoded once per variant and action, which the key-use properties and key cells of
        the action each ask about."""
        found = self._key_checks.get((variant, action))
        if found is None:
            found = self._key_checks[variant, action] = self._new_key_check(variant, action)
        return found

    def _new_key_check(self, variant: Variant, action: str) -> Check:
        principal = SymbolicPrincipal.fresh(name=GOAL)
        query = self._key_query(variant)
        pins = {"kms:CallerAccount": CALLER_ACCOUNT}
        request = self._request(principal, action, self.system.key_arn, query, pins, (VIA,))
        return Check(request, query)

    def _key_others(self, variant: Variant, action: str) -> Goal:
        check = self._key_check(variant, action)
        principal = check.request.principal
        outside = negate(any_of(principal.is_named_by(p.arn) for p in self.listed))
        preferences = [*self._who(principal), *self._plain(check)]
        violation = all_of((outside, check.allowed))
        return self._goal(variant, principal, [check], violation, preferences)

    @staticmethod
    def _through_s3(expected: Expected, action: str) -> bool:
        return action in {S3_KMS_CALL[b] for actions in expected.bucket.values() for b in actions}

    def _key_listed(self, variant: Variant, action: str, expected: Expected) -> Goal:
        check = self._key_check(variant, action)
        principal = check.request.principal
        permitted = z3.BoolVal(False)
        if self._through_s3(expected, action):
            via_s3 = f"s3.{self.system.region}.amazonaws.com"
            permitted = check.request.context.has_value(VIA, via_s3)
        violation = all_of((principal.is_named_by(expected.arn), check.allowed, negate(permitted)))
        preferences = [principal.of_kind(Kind.ASSUMED_ROLE), principal.session == literal("proof")]
        return self._goal(variant, principal, [check], violation, preferences + self._plain(check))

    # encryption, tls, object access ----------------------------------------------------------
    @staticmethod
    def _reads(*documents: Document | None) -> tuple[Document, ...]:
        return tuple(d for d in documents if d is not None)

    def encryption(self) -> Property:
        return Property(
            "encryption/put",
            "encryption",
            1,
            "every PutObject, CopyObject and CreateMultipartUpload (s3:PutObject) into the "
            "bucket that is not SSE-KMS under this key is denied, for every principal",
            self._encryption,
            self._reads(self.system.bucket_policy),
            frozenset({"s3"}),
        )

    def _encryption(self, variant: Variant) -> list[Goal]:
        query = self._bucket_query(variant)
        goals = []
        for resource in self._objects(query, "s3:PutObject"):
            principal = SymbolicPrincipal.fresh(name=GOAL)
            request = self._request(principal, "s3:PutObject", resource, query, {}, (SSE, SSE_KEY))
            check = Check(request, query)
            context = request.context
            encrypted = z3.And(
                context.has_value(SSE, "aws:kms"),
                context.has_value(SSE_KEY, self.system.key_arn),
            )
            writers = [
                p.arn for p in self.listed if any("s3:PutObject" in a for a in p.bucket.values())
            ]
            preferences = [
                z3.Or(*(principal.is_named_by(arn) for arn in writers)),
                *self._who(principal),
                self._sendable(check),
                *self._plain(check),
            ]
            violation = all_of((check.allowed, negate(encrypted)))
            goals.append(self._goal(variant, principal, [check], violation, preferences))
        return goals

    def tls(self) -> Property:
        return Property(
            "tls/bucket-and-objects",
            "tls",
            1,
            "every S3 request without TLS to the bucket or its objects is denied",
            self._tls,
            self._reads(self.system.bucket_policy),
            frozenset({"s3"}),
        )

    def _tls(self, variant: Variant) -> list[Goal]:
        query = self._bucket_query(variant)
        actions = [p for s in query.statements() for p in s.action_patterns]
        goals = []
        for action in representatives([_S3_ACTION], actions, REPLAYABLE_S3):
            for resource in self._objects(query, action, bucket=True):
                principal = SymbolicPrincipal.fresh(name=GOAL)
                pins = {TLS: Pin(value="false")}
                check = Check(self._request(principal, action, resource, query, pins), query)
                preferences = [*self._who(principal), *self._plain(check)]
                goals.append(self._goal(variant, principal, [check], check.allowed, preferences))
        return goals

    def object_access(self) -> Iterator[Property]:
        for action in self.allowlist.bucket_actions:
            yield Property(
                f"object-access/{action}",
                "object-access",
                2,
                f"{action} on any object is allowed by the bucket policy only to principals "
                "the allow-list gives that object's key",
                lambda variant, action=action: self._object_access(variant, action),
                self._reads(self.system.bucket_policy),
                frozenset({"s3"}),
            )

    def _granted(self, action: str) -> list[tuple[Expected, list[Pattern]]]:
        """Who the allow-list gives ``action`` on objects, and on which keys."""
        arn = self.system.bucket_arn
        found = []
        for expected in self.listed:
            keys = [
                self.allowlist.object_keys.get(label, self.allowlist.objects[label])
                for label, actions in expected.bucket.items()
                if action in actions
            ]
            if keys:
                found.append((expected, [Pattern(f"{arn}/{k}", arn=True) for k in keys]))
        return found

    @staticmethod
    def _within(resource: Text, patterns: Sequence[Pattern]) -> Term:
        if isinstance(resource, str):
            return any(p.matches(resource, lambda _key: None) for p in patterns)
        return any_of(pattern_matches(p, resource) for p in patterns)

    def _object_access(self, variant: Variant, action: str) -> list[Goal]:
        query = self._bucket_query(variant)
        granted = self._granted(action)
        extra = [p for _, patterns in granted for p in patterns]
        goals = []
        for resource in self._objects(query, action, extra):
            principal = SymbolicPrincipal.fresh(name=GOAL)
            check = Check(self._request(principal, action, resource, query, {}), query)
            allowed_to = [
                all_of((principal.is_named_by(expected.arn), self._within(resource, patterns)))
                for expected, patterns in granted
            ]
            outside = any_of(
                (
                    negate(principal.has_account),
                    principal.account != literal(self.system.bucket_account),
                )
            )
            violation = all_of((outside, check.allowed, negate(any_of(allowed_to))))
            preferences = [*self._who(principal), *self._plain(check)]
            goals.append(self._goal(variant, principal, [check], violation, preferences))
        return goals

    # trust -----------------------------------------------------------------------------------
    def _assumers(self, role_arn: str) -> list[str]:
        named = [p.arn for p in self.allowlist.principals if role_arn in p.assume]
        return named + [s for s, roles in self.allowlist.services.items() if role_arn in roles]

    def trust(self) -> list[Property]:
        return [
            Property(
                f"trust/{role.arn.rsplit('/', 1)[-1]}",
                "trust",
                2,
                f"{role.arn} can be assumed only by "
                + (", ".join(self._assumers(role.arn)) or "nobody (the allow-list names none)"),
                lambda variant, role=role: self._trust(variant, role),
                (role.trust,),
                frozenset({"sts"}),
            )
            for role in self.system.roles
        ]

    def _trust(self, variant: Variant, role: Role) -> list[Goal]:
        query = self._query(variant, role.trust, role.arn.split(":")[4], "role-trust")
        goals = []
        for action in ASSUME_ACTIONS:
            principal = SymbolicPrincipal.fresh(name=GOAL)
            check = Check(self._request(principal, action, role.arn, query, {}), query)
            named = [principal.is_named_by(arn) for arn in self._assumers(role.arn)]
            violation = all_of((check.allowed, negate(any_of(named))))
            preferences = [*self._who(principal), *self._plain(check)]
            goals.append(self._goal(variant, principal, [check], violation, preferences))
        return goals

    # liveness --------------------------------------------------------------------------------
    def liveness(self) -> list[Property]:
        found = []
        for expected in self.listed:
            for action in sorted(expected.key):
                found.append(self._cell(f"key/{expected.name}/{action}", expected.arn, action))
            for label, actions in expected.bucket.items():
                for action in sorted(actions):
                    cell = f"bucket/{expected.name}/{action}/{label}"
                    found.append(self._cell(cell, expected.arn, action, label))
        for expected in self.allowlist.principals:
            for role in sorted(expected.assume):
                found.append(self._cell(f"assume/{expected.name}/{role}", expected.arn, role))
        for service, roles in self.allowlist.services.items():
            for role in sorted(roles):
                found.append(self._cell(f"assume/{service}/{role}", service, role))
        return found

    def _cell(self, name: str, who: str, what: str, label: str | None = None) -> Property:
        if label is not None:
            claim = f"{who} can {what} object {self.allowlist.objects[label]} under the key"
            reads = self._reads(self.system.bucket_policy, self.system.key_policy)
            services = {"s3", "kms"}
        elif what.startswith("kms:"):
            claim = f"{who} can call {what} on the key"
            reads = self._reads(self.system.key_policy)
            services = {"kms"}
        else:
            role = self.system.role(what)
            claim = f"{who} can assume {what}"
            reads = self._reads(role.trust if role is not None else None)
            services = {"sts"}
        return Property(
            f"liveness/{name}",
            "liveness",
            2,
            claim,
            lambda variant: [self._witness(variant, who, what, label)],
            reads,
            frozenset(services),
            liveness=True,
        )

    def _as(self, principal: SymbolicPrincipal, who: str) -> tuple[z3.BoolRef, Principal]:
        """The principal is ``who`` (a role: a session of it), and how a shown request
        names it."""
        if "." in who and not who.startswith("arn:"):
            return principal.is_named_by(who), Principal.service(who)
        named = Principal.from_arn(who)
        if named.kind is Kind.ROLE:
            session = f"arn:aws:sts::{named.account}:assumed-role/{named.name}/proof"
            is_session = principal.of_kind(Kind.ASSUMED_ROLE) & principal.is_named_by(who)
            return is_session, Principal.from_arn(session)
        return principal.is_named_by(who), named

    def _witness(self, variant: Variant, who: str, what: str, label: str | None) -> Goal:
        key = self._key_check(variant, what) if label is None and what.startswith("kms:") else None
        principal = key.request.principal if key is not None else SymbolicPrincipal.fresh(name=GOAL)
        is_who, shown_principal = self._as(principal, who)
        if label is not None:
            checks, shown = self._object_cell(variant, principal, shown_principal, what, label)
        elif key is not None:
            checks = (key,)
            context = {TLS: "true", "kms:CallerAccount": shown_principal.account or ""}
            context |= KEY_CALL_CONTEXT.get(what, {})
            shown = (Request(shown_principal, what, self.system.key_arn, context),)
        else:
            role = self.system.role(what)
            trust = role.trust if role is not None else None
            query = self._query(variant, trust, what.split(":")[4], "role-trust")
            checks = (Check(self._request(principal, "sts:AssumeRole", what, query, {}), query),)
            context = {TLS: "true"}
            if shown_principal.kind is Kind.SERVICE:
                context["aws:SourceAccount"] = what.split(":")[4]
            shown = (Request(shown_principal, "sts:AssumeRole", what, context),)
        condition = all_of((is_who, *(c.allowed for c in checks)))
        preferences = [principal.session == literal("proof"), *self._plain(*checks)]
        return self._goal(variant, principal, checks, condition, preferences, shown)

    def _object_cell(
        self,
        variant: Variant,
        principal: SymbolicPrincipal,
        shown_as: Principal,
        action: str,
        label: str,
    ) -> tuple[tuple[Check, ...], tuple[Request, ...]]:
        """The S3 request on the label's object and the KMS call S3 makes for it."""
        key_arn = self.system.key_arn
        object_arn = f"{self.system.bucket_arn}/{self.allowlist.objects[label]}"
        s3_pins: dict[str, Pin] = {}
        s3_context = {TLS: "true"}
        if action == "s3:PutObject":
            s3_pins = {SSE: Pin(value="aws:kms"), SSE_KEY: Pin(value=key_arn)}
            s3_context |= {SSE: "aws:kms", SSE_KEY: key_arn}
        query = self._bucket_query(variant)
        s3 = self._request(principal, action, object_arn, query, s3_pins)
        kms_action = S3_KMS_CALL[action]
        via_s3 = f"s3.{self.system.region}.amazonaws.com"
        kms_query = self._key_query(variant)
        kms_pins = {
            VIA: Pin(value=via_s3),
            "kms:CallerAccount": CALLER_ACCOUNT,
            TLS: Pin(value="true"),
        }
        kms = self._request(principal, kms_action, key_arn, kms_query, kms_pins)
        kms_context = {
            TLS: "true",
            VIA: via_s3,
            "kms:CallerAccount": shown_as.account or "",
            "kms:EncryptionContext:aws:s3:arn": object_arn,
        }
        shown = (
            Request(shown_as, action, object_arn, s3_context),
            Request(shown_as, kms_action, key_arn, kms_context),
        )
        return (Check(s3, query), Check(kms, kms_query)), shown
