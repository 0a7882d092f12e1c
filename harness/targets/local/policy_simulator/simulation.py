"""One simulation: the input policies and the simulated caller, and the ``EvaluationResult``
the policy engine gives for each (action, resource) pair.

What AWS's simulator does and this one follows:

* Every statement that applied is listed in ``MatchedStatements``, denies and allows (AWS's
  reference says an explicit deny lists only the deny; its answers have been seen to list
  the allows that matched too), none when nothing applied. ``StartPosition``/``EndPosition``
  are approximate: the statement's opening brace and the character after its closing one,
  1-based, where AWS's may differ by a character; omitted for a policy given as YAML.
* A ``ResourcePolicy`` is attached to every simulated resource, with the engine's KMS rule
  for key ARNs (the key policy must allow, directly or by delegating to the account). For an
  IAM role it is ignored, as AWS documents that it does not simulate resource-based policies
  of IAM roles: a role's trust policy is never simulated. Without a resource policy the
  identity policies alone decide, whichever account the resource ARN names.
* ``EvalDecisionDetails``: omitted for ``*``, empty in one account, and across accounts an
  ``IAM Policy`` and a ``Resource Policy`` entry (AWS documents neither key; these are the
  names its ``SourcePolicyType`` uses). ``OrganizationsDecisionDetail`` is never given: the
  local target has no organization.
* ``MissingContextValues`` lists condition keys (in lower case) of statements whose action,
  resource and principal applied but whose key the request lacks.
* Principal condition keys (``aws:PrincipalArn``...) come from the simulated caller unless a
  context entry gives them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from harness.policy import Policy, PolicyError, Principal, Request, evaluate
from harness.policy.arns import is_iam_role, is_kms_key
from harness.policy.evaluate import ContextValue
from harness.policy.policy import Statement
from harness.policy.positions import Span, statement_spans

IDENTITY_DETAIL = "IAM Policy"
RESOURCE_DETAIL = "Resource Policy"


class SimulationError(Exception):
    """The request cannot be simulated; ``code`` and ``status`` are IAM's error."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def invalid_input(message: str) -> SimulationError:
    return SimulationError("InvalidInput", message)


@dataclass(frozen=True)
class Source:
    """One input policy, named as the simulator's ``Statement`` names it."""

    policy_id: str  # SourcePolicyId
    policy_type: str  # SourcePolicyType
    policy: Policy
    spans: tuple[Span, ...]  # where each statement is in the text (none for YAML)

    @classmethod
    def parse(cls, policy_id: str, policy_type: str, text: str) -> Source:
        try:
            policy = Policy.coerce(text, f"{policy_type} {policy_id}")
        except PolicyError as error:
            raise invalid_input(f"{policy_id} is not a valid policy: {error}") from error
        return cls(policy_id, policy_type, policy, tuple(statement_spans(text)))

    def cite(self, statement: Statement) -> dict[str, Any]:
        cited: dict[str, Any] = {
            "SourcePolicyId": self.policy_id,
            "SourcePolicyType": self.policy_type,
        }
        if statement.index < len(self.spans):
            span = self.spans[statement.index]
            cited["StartPosition"] = {"Line": span.start.line, "Column": span.start.column}
            cited["EndPosition"] = {"Line": span.end.line, "Column": span.end.column}
        return cited


Hit = tuple[Source, Statement]


@dataclass(frozen=True)
class Simulation:
    """Everything but the action and resource, which each result pairs."""

    caller: Principal
    identity: tuple[Source, ...]
    boundary: Source | None = None
    resource_policy: Source | None = None
    resource_owner: str | None = None  # account id
    context: Mapping[str, ContextValue] = dataclasses.field(default_factory=dict)

    def result(self, action: str, resource: str) -> dict[str, Any]:
        """The ``EvaluationResult`` of ``action`` on ``resource`` (``*``: no resource)."""
        attached = None if is_iam_role(resource) else self.resource_policy
        account = self.caller.account or ""
        if attached is not None:
            account = _account_in(resource) or self.resource_owner or account
        request = Request(self.caller, action, resource, self.context)
        try:
            decision = evaluate(
                request,
                identity=[s.policy for s in self.identity],
                resource=attached.policy if attached else None,
                resource_account=account,
                resource_kind="kms-key" if attached and is_kms_key(resource) else "generic",
                boundary=self.boundary.policy if self.boundary else None,
            )
        except PolicyError as error:
            raise invalid_input(str(error)) from error
        identity = list(self._hits(self.identity, request, resource_side=False))
        bounds = list(self._hits(self._boundary, request, resource_side=False))
        granted = list(self._hits(_one(attached), request, resource_side=True))
        hits = granted + identity + bounds
        outcome = "allowed" if decision.allowed else _denial(hits)
        matched = [source.cite(statement) for source, statement in hits]
        missing = self._missing(request, attached)
        specific: dict[str, Any] = {
            "EvalResourceName": resource,
            "EvalResourceDecision": outcome,
            "MatchedStatements": matched,
            "MissingContextValues": missing,
        }
        result: dict[str, Any] = {
            "EvalActionName": action,
            "EvalResourceName": resource,
            "EvalDecision": outcome,
            "MatchedStatements": matched,
            "MissingContextValues": missing if resource == "*" else [],
        }
        if self.boundary is not None:
            detail = {"AllowedByPermissionsBoundary": _side(bounds) == "allowed"}
            specific["PermissionsBoundaryDecisionDetail"] = detail
            result["PermissionsBoundaryDecisionDetail"] = detail
        if resource != "*":
            details: dict[str, str] = {}
            if attached is not None and account != self.caller.account:
                details = {
                    IDENTITY_DETAIL: self._identity_side(identity, bounds),
                    RESOURCE_DETAIL: _side(granted),
                }
                specific["EvalDecisionDetails"] = details
            result["EvalDecisionDetails"] = details
            result["ResourceSpecificResults"] = [specific]
        return result

    def _identity_side(self, identity: list[Hit], bounds: list[Hit]) -> str:
        """The caller's account's verdict: identity policies within the boundary."""
        if "explicitDeny" in (_side(identity), _side(bounds)):
            return "explicitDeny"
        within = self.boundary is None or _side(bounds) == "allowed"
        return "allowed" if _side(identity) == "allowed" and within else "implicitDeny"

    @property
    def _boundary(self) -> tuple[Source, ...]:
        return _one(self.boundary)

    def _hits(
        self,
        sources: tuple[Source, ...],
        request: Request,
        *,
        resource_side: bool,
        ignore_conditions: bool = False,
    ) -> Iterator[Hit]:
        """Statements whose action, resource, conditions (unless ignored) and, in a resource
        policy, principal apply to ``request``."""
        for source in sources:
            for statement in source.policy.statements:
                tested = (
                    dataclasses.replace(statement, conditions=())
                    if ignore_conditions
                    else statement
                )
                if not tested.covers(request.action, request.resource, request.get):
                    continue
                if resource_side and statement.principal_match(self.caller) is None:
                    continue
                yield source, statement

    def _missing(self, request: Request, attached: Source | None) -> list[str]:
        """Condition keys of statements that apply but for their conditions, not given."""
        applicable = [
            *self._hits(
                self.identity + self._boundary, request, resource_side=False, ignore_conditions=True
            ),
            *self._hits(_one(attached), request, resource_side=True, ignore_conditions=True),
        ]
        keys = {test.key for _, statement in applicable for test in statement.conditions}
        return sorted(key for key in keys if request.get(key) is None)


def _one(source: Source | None) -> tuple[Source, ...]:
    return (source,) if source is not None else ()


def _side(hits: list[Hit]) -> str:
    """One side's own verdict: a deny wins, then an allow, else nothing allowed it."""
    if any(not statement.allow for _, statement in hits):
        return "explicitDeny"
    return "allowed" if hits else "implicitDeny"


def _denial(hits: list[Hit]) -> str:
    return "explicitDeny" if _side(hits) == "explicitDeny" else "implicitDeny"


def _account_in(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4].isdigit() else None
