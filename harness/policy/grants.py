"""KMS grants: a third way, besides the key policy and IAM policies, to allow use of a key.

AWS KMS developer guide, "Grants in AWS KMS"
(https://docs.aws.amazon.com/kms/latest/developerguide/grants.html) and "KMS key access and
permissions" (https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html): a
grant allows its grantee principal the grant operations it lists, under its encryption-context
constraints; it can only allow, and nothing is allowed that a policy explicitly denies.

What this module decides, and what it takes as given (doubtful points say so):

- A grant rescues a request only from an *implicit* deny for want of the key policy or of
  identity policies. An SCP, RCP, permissions boundary or session policy that does not allow the
  request still refuses it (doubtful: AWS documents SCPs as limits on every permission of a
  member account's principals; for boundaries and session policies we treat a grant like a
  key-policy statement naming the role, which they cap).
- A grant used across accounts needs no IAM allow in the grantee's account (doubtful: the KMS
  guide calls grants an alternative to the key policy and does not ask for one).
- A grant names its grantee exactly: a role (any session of it), a role session, a user, or an
  account's root user, which a grant to an account root therefore reaches alone (doubtful: AWS
  does not document delegation from an account-root grantee to the account's IAM principals).
- Constraints (``EncryptionContextEquals``/``EncryptionContextSubset``) apply only to the
  operations that take an encryption context; keys match case-insensitively, values exactly
  (https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantConstraints.html).
- A grant that allows ``CreateGrant`` lets its grantee create grants for no more operations and
  under constraints at least as strict
  (https://docs.aws.amazon.com/kms/latest/developerguide/create-grant-overview.html).
- ``RetireGrant`` is allowed by the grant to its retiring principal, and to its grantee when it
  lists ``RetireGrant``; the account's own path (its IAM policies) is the policies' to decide
  (https://docs.aws.amazon.com/kms/latest/developerguide/grant-delete.html).
- Eventual consistency: a grant here is in force as soon as it exists, with or without its
  grant token -- the state AWS reaches once the grant has propagated, which a grant token
  reaches at once (https://docs.aws.amazon.com/kms/latest/developerguide/using-grant-token.html).
  The window in which AWS may refuse a new grant used without its token is not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.policy.evaluate import Decision, Request
from harness.policy.policy import KIND_NAMES, StatementRef
from harness.policy.principal import Principal

# The cryptographic operations of a symmetric key, which take an encryption context (grant
# constraints apply to them), lower-cased.
CONTEXT_OPERATIONS = frozenset(
    {
        "encrypt",
        "decrypt",
        "reencryptfrom",
        "reencryptto",
        "generatedatakey",
        "generatedatakeywithoutplaintext",
        "generatedatakeypair",
        "generatedatakeypairwithoutplaintext",
    }
)
# What a grant can make up for: the key policy or identity policies that did not allow
# ("resource": RetireGrant, which the key policy has no say in, is decided as a generic
# resource without a resource policy).
_GRANT_CAN_SUPPLY = frozenset({"key", "identity", "resource"})
_CONTEXT_PREFIX = "kms:encryptioncontext:"


def _pairs(mapping: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """Constraint pairs with lower-cased keys (grant constraints' keys ignore case)."""
    return tuple(sorted((str(k).lower(), str(v)) for k, v in (mapping or {}).items()))


@dataclass(frozen=True)
class Constraints:
    """A grant's encryption-context constraints (at most one kind is set)."""

    equals: tuple[tuple[str, str], ...] | None = None
    subset: tuple[tuple[str, str], ...] | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> Constraints:
        raw = raw or {}
        equals, subset = raw.get("EncryptionContextEquals"), raw.get("EncryptionContextSubset")
        return cls(
            _pairs(equals) if equals is not None else None,
            _pairs(subset) if subset is not None else None,
        )

    def admit(self, context: Mapping[str, str]) -> bool:
        """Does an encryption context (lower-cased keys) satisfy the constraints?"""
        if self.equals is not None and tuple(sorted(context.items())) != self.equals:
            return False
        return self.subset is None or all(context.get(k) == v for k, v in self.subset)

    def at_least_as_strict(self, child: Constraints) -> bool:
        """Is every context ``child`` admits also admitted here?"""
        if self.equals is None and self.subset is None:
            return True
        if child.equals is not None:
            return self.admit(dict(child.equals))
        if child.subset is not None and self.subset is not None:
            return set(self.subset) <= set(child.subset)
        return False


def _request_context(request: Request) -> dict[str, str]:
    """The request's encryption context, keys lower-cased, from its condition keys."""
    keys = request.get("kms:EncryptionContextKeys") or ()
    names = (keys,) if isinstance(keys, str) else keys
    context: dict[str, str] = {}
    for name in names:
        value = request.get(_CONTEXT_PREFIX + name)
        if isinstance(value, str):
            context[name.lower()] = value
    return context


@dataclass(frozen=True)
class Grant:
    """One grant on one key, as ListGrants shows it."""

    grant_id: str
    key_arn: str
    grantee: str
    operations: frozenset[str]  # lower-cased operation names
    retiring: str | None = None
    constraints: Constraints = Constraints()
    name: str = ""

    @classmethod
    def from_api(cls, key_arn: str, fields: Mapping[str, Any]) -> Grant:
        """A grant from ListGrants' (or CreateGrant's request's) field names."""
        return cls(
            grant_id=str(fields.get("GrantId", "")),
            key_arn=key_arn,
            grantee=str(fields.get("GranteePrincipal", "")),
            operations=frozenset(str(op).lower() for op in fields.get("Operations") or ()),
            retiring=fields.get("RetiringPrincipal") or None,
            constraints=Constraints.parse(fields.get("Constraints")),
            name=str(fields.get("Name") or ""),
        )

    def cite(self) -> StatementRef:
        policy = f"KMS grant {self.grant_id} on {self.key_arn}"
        return StatementRef(policy, "grant", self.name or 0, "Allow")

    def _names(self, arn: str | None, principal: Principal) -> bool:
        return bool(arn) and arn in (principal.arn, principal.role_arn)

    def allows(self, request: Request, creating: Grant | None = None) -> bool:
        """Does this grant allow ``request`` (``creating``: the grant a CreateGrant asks for)?"""
        principal = request.principal
        operation = request.action.split(":", 1)[-1].lower()
        if operation == "retiregrant" and self._names(self.retiring, principal):
            return True
        if not self._names(self.grantee, principal) or operation not in self.operations:
            return False
        if operation == "creategrant":
            return creating is not None and (
                creating.operations <= self.operations
                and self.constraints.at_least_as_strict(creating.constraints)
            )
        if operation in CONTEXT_OPERATIONS:
            return self.constraints.admit(_request_context(request))
        return True


def with_grants(
    decision: Decision,
    request: Request,
    grants: Iterable[Grant],
    creating: Grant | None = None,
) -> Decision:
    """``decision`` (the policies' answer) once the key's grants are weighed too: a grant that
    allows the request turns an implicit deny for want of the key policy or identity policies
    into an allow citing the grant; every other decision stands."""
    lacking = set(decision.lacking)
    if decision.allowed or decision.statements or not lacking or not lacking <= _GRANT_CAN_SUPPLY:
        return decision
    for grant in grants:
        if grant.allows(request, creating):
            ref = grant.cite()
            return decision._replace(
                allowed=True,
                reason=(
                    f"Allowed: KMS grant {grant.grant_id} gives {grant.grantee} "
                    f"{request.action} on {grant.key_arn} (no key or identity policy "
                    f"did; {request.principal.arn}) [decided by: {KIND_NAMES['grant']}]"
                ),
                statements=(ref,),
                matched=(*decision.matched, ref),
                lacking=(),
            )
    return decision
