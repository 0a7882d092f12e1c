"""The shape of evidence, shared by every source of it (see the package docstring).

A decision log line of the local target (``harness/targets/local/decision_log.py``) holds
``request_id``, ``action``, ``resource``, ``decision``, ``reason`` and, as lists of
``{"policy", "kind", "sid", "effect"}``, ``matched`` (every statement whose principal, action,
resource and conditions applied, denies and allows alike) and ``deciding`` (the explicit
denies, or the allows that granted), plus ``lacking``: for an implicit deny, the kinds of
policy that did not allow. :meth:`DecisionEvidence.from_log` reads such a line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class PolicyKind(StrEnum):
    """Where a statement comes from, in the words AWS's evaluation logic uses."""

    IDENTITY = "identity"  # inline or managed policy of the principal
    RESOURCE = "resource"  # a resource-based policy other than the two below (bucket policy)
    KEY = "key"  # a KMS key policy
    TRUST = "trust"  # a role trust policy
    BOUNDARY = "boundary"  # a permissions boundary
    SCP = "scp"  # a service control policy
    RCP = "rcp"  # a resource control policy
    SESSION = "session"  # a session policy
    GRANT = "grant"  # a KMS grant
    RULE = "rule"  # a rule of AWS itself, not a policy (the root user cannot assume roles)


RESOURCE_SIDE = frozenset({PolicyKind.RESOURCE, PolicyKind.KEY, PolicyKind.TRUST})


class Source(StrEnum):
    """Who says which statements decided: the one who enforced, or someone computing after."""

    DECISION_LOG = "the target's decision log"
    COMPUTED = "computed by the harness's policy engine from the fetched policies"
    SIMULATED = "simulated by AWS (iam:SimulatePrincipalPolicy)"


@dataclass(frozen=True)
class StatementCited:
    """One statement of one policy."""

    policy: str  # the policy's name as reports call it, e.g. "key policy of arn:aws:kms:..."
    kind: PolicyKind
    sid: str | int  # the Sid, or the statement's index when it has none
    effect: str  # "Allow" or "Deny"

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> StatementCited:
        return cls(str(raw["policy"]), PolicyKind(raw["kind"]), raw["sid"], str(raw["effect"]))

    def as_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "kind": self.kind.value,
            "sid": self.sid,
            "effect": self.effect,
        }

    def __str__(self) -> str:
        name = f"statement {self.sid!r}" if isinstance(self.sid, str) else f"statement #{self.sid}"
        return f"{self.effect} {name} of {self.policy}"


def _cited(raw: Any) -> tuple[StatementCited, ...]:
    return tuple(StatementCited.from_json(item) for item in raw or ())


@dataclass(frozen=True)
class DecisionEvidence:
    """One authorization decision of a request (a request may need several: an SSE-KMS put
    is ``s3:PutObject`` and then ``kms:GenerateDataKey`` on the caller's behalf)."""

    action: str
    resource: str
    allowed: bool
    reason: str
    matched: tuple[StatementCited, ...] = ()
    deciding: tuple[StatementCited, ...] = ()
    lacking: tuple[PolicyKind, ...] = ()
    principal: str = ""

    @classmethod
    def from_log(cls, entry: Mapping[str, Any]) -> DecisionEvidence:
        return cls(
            action=str(entry["action"]),
            resource=str(entry["resource"]),
            allowed=entry["decision"] == "allow",
            reason=str(entry.get("reason", "")),
            matched=_cited(entry.get("matched")),
            deciding=_cited(entry.get("deciding")),
            lacking=tuple(PolicyKind(kind) for kind in entry.get("lacking") or ()),
            principal=str(entry.get("principal", "")),
        )

    @property
    def decided_by(self) -> frozenset[PolicyKind]:
        """The kinds of policy that made this decision: those of the deciding statements,
        or for an implicit deny the kinds that did not allow."""
        return frozenset(s.kind for s in self.deciding) | frozenset(self.lacking)

    def describe(self) -> str:
        verdict = "allowed" if self.allowed else "denied"
        if self.deciding:
            because = "; ".join(map(str, self.deciding))
        elif self.lacking:
            because = (
                "implicit deny: no "
                + " and no ".join(f"{kind.value} policy" for kind in self.lacking)
                + " allowed it"
            )
        else:
            because = self.reason
        return f"{self.action} on {self.resource} {verdict} by {because}"


@dataclass(frozen=True)
class Explanation:
    """Every decision one request needed, and who reported them."""

    source: Source
    request_id: str | None
    decisions: tuple[DecisionEvidence, ...]

    @property
    def refusal(self) -> DecisionEvidence | None:
        """The decision that refused the request (the first denied one), if any."""
        return next((d for d in self.decisions if not d.allowed), None)

    def describe(self) -> str:
        where = f"request {self.request_id}" if self.request_id else "the request"
        if not self.decisions:
            return f"{where}: no decision recorded ({self.source.value})"
        shown = [self.refusal] if self.refusal is not None else list(self.decisions)
        return f"{where}: " + "; ".join(d.describe() for d in shown) + f" ({self.source.value})"


@dataclass(frozen=True)
class Intent:
    """A request in IAM's terms: who asks for which action on which resource, with the
    condition keys the request sets. A target that keeps no decision log is explained by
    deciding the intent with the engine on the fetched policies; ``also`` are the further decisions
    the request needs, in order (the KMS call S3 makes with the caller's credentials for an
    SSE-KMS put, the ``kms:ReEncryptTo`` after ``kms:ReEncryptFrom``)."""

    principal: str  # the role (or root) ARN the request is made as
    action: str
    resource: str
    context: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    resource_account: str | None = None  # needed where the ARN names none (S3)
    also: tuple[Intent, ...] = ()
