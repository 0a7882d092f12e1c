"""Evidence from AWS's own policy simulator, for roles the harness cannot become.

On ``aws`` a role that only a service may assume (the pipeline role, SageMaker's roles, the
deploy function's role) cannot make a probe request. :func:`simulate` asks
``iam:SimulatePrincipalPolicy`` instead, as the deployer of the role's account: the role's
own policies and boundary (read by AWS), the resource's policy as fetched, the role as the
caller its ``Principal`` elements are matched against, the resource's owner, and the
request's context. AWS cites matched statements by policy and text position; they are read
back to Sids here (identity policies are fetched for that), so the evidence names
statements the way the local target's decision log does.

What the simulator cannot show is refused, never guessed (:class:`SimulationInconclusive`):

* a role's trust policy: AWS does not simulate resource-based policies of IAM roles, so an
  ``sts:AssumeRole`` simulation would show the identity side alone;
* a key use allowed without a key-policy statement cited: the IAM user guide names S3, SQS,
  SNS and S3 Glacier as the services whose resource policies the simulator supports, so such
  an answer may come from the identity policy alone, without KMS's rule that the key policy
  must allow;
* a cited statement that cannot be found in its policy.

An implicit deny's ``lacking`` kinds are those required (identity, and the resource side
when a resource policy was given) that neither a matched ``Allow`` nor, across accounts,
``EvalDecisionDetails`` shows allowing, plus the boundary when
``PermissionsBoundaryDecisionDetail`` says it did not allow. In one account this relies on
AWS listing the allows that matched, as its answers have been seen to.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from botocore.client import BaseClient
from botocore.handlers import json_decode_policies

from harness.evidence.computed import FetchedPolicies, bucket_of
from harness.evidence.model import (
    DecisionEvidence,
    Explanation,
    Intent,
    PolicyKind,
    Source,
    StatementCited,
)
from harness.policy import Principal
from harness.policy.arns import is_iam_role, is_kms_key
from harness.policy.evaluate import RESOURCE_POLICY_KIND, RESOURCE_POLICY_NAME, ResourceKind
from harness.policy.positions import Position, statement_at

if TYPE_CHECKING:
    from harness.targets.base import Target

ContextValue = str | bool | int | float | Sequence[str]
_RESOURCE_TYPES = frozenset({"resource", "Resource Policy"})
_INLINE_TYPE = "role"
_MANAGED_TYPES = frozenset({"aws-managed", "user-managed"})


class SimulationInconclusive(RuntimeError):
    """AWS's simulator cannot give evidence for this request; the message says why."""


def simulate(
    target: Target,
    principal_arn: str,
    action: str,
    resource_arn: str,
    resource_policy: str | None,
    resource_owner: str,
    context: Mapping[str, ContextValue] | None = None,
) -> Explanation:
    """What AWS's simulator says role ``principal_arn`` may do: ``action`` on
    ``resource_arn``, which ``resource_owner``'s account holds under ``resource_policy``
    (key, bucket policy; None: none), with condition keys ``context``."""
    if is_iam_role(resource_arn):
        raise SimulationInconclusive(
            f"{action} on {resource_arn}: AWS's policy simulator does not simulate a role's "
            "trust policy (resource-based policies of IAM roles)"
        )
    principal = Principal.from_arn(principal_arn)
    # its own client: the policy texts take back the decoding of policy documents from it
    iam = target.client("iam", target.session(principal.account or ""), shared=False)
    request: dict[str, Any] = {
        "PolicySourceArn": principal_arn,
        "CallerArn": principal_arn,
        "ActionNames": [action],
        "ResourceArns": [resource_arn],
        "ResourceOwner": f"arn:aws:iam::{resource_owner}:root",
        "ContextEntries": _context_entries(principal, context or {}),
    }
    if resource_policy is not None:
        request["ResourcePolicy"] = resource_policy
    response = iam.simulate_principal_policy(**request)
    result = response["EvaluationResults"][0]
    texts = _PolicyTexts(iam, principal, resource_arn, resource_policy)
    decision = _decision(result, principal_arn, resource_policy is not None, texts)
    return Explanation(Source.SIMULATED, response["ResponseMetadata"]["RequestId"], (decision,))


def _context_entries(
    principal: Principal, context: Mapping[str, ContextValue]
) -> list[dict[str, Any]]:
    """The request's condition keys, with a session of the role's principal keys unless
    given (AWS does not document deriving them from ``CallerArn``)."""
    derived: dict[str, ContextValue] = {
        "aws:PrincipalArn": principal.arn,
        "aws:PrincipalAccount": principal.account or "",
        "aws:PrincipalType": "AssumedRole",
    }
    given = {name.lower() for name in context}
    merged = {k: v for k, v in derived.items() if k.lower() not in given} | dict(context)
    entries = []
    for name, value in merged.items():
        if isinstance(value, bool):
            kind, values = "boolean", ["true" if value else "false"]
        elif isinstance(value, int | float):
            kind, values = "numeric", [str(value)]
        elif isinstance(value, str):
            kind, values = "string", [value]
        else:
            kind, values = "stringList", [str(v) for v in value]
        entries.append({"ContextKeyName": name, "ContextKeyValues": values, "ContextKeyType": kind})
    return entries


class _PolicyTexts:
    """The text of each policy a matched statement may cite, fetched when first cited."""

    def __init__(
        self,
        iam: BaseClient,
        principal: Principal,
        resource_arn: str,
        resource_policy: str | None,
    ) -> None:
        self._iam = iam
        self._role = principal.name or ""
        self._resource_arn = resource_arn
        self._resource_policy = resource_policy
        # Policy documents as stored: AWS's positions refer to that text, not to boto3's dict.
        iam.meta.events.unregister("after-call.iam", json_decode_policies)
        self._managed: dict[str, str] | None = None
        self._boundary: str | None = None

    def resource(self) -> tuple[str, PolicyKind, str]:
        if self._resource_policy is None:
            raise SimulationInconclusive("AWS cited a resource policy, but none was given")
        rule = _resource_kind(self._resource_arn)
        name = f"{RESOURCE_POLICY_NAME[rule]} of {self._resource_arn}"
        return name, PolicyKind(RESOURCE_POLICY_KIND[rule]), self._resource_policy

    def inline(self, name: str) -> tuple[str, PolicyKind, str]:
        raw = self._iam.get_role_policy(RoleName=self._role, PolicyName=name)["PolicyDocument"]
        return f"policy {name!r} of role {self._role}", PolicyKind.IDENTITY, unquote(raw)

    def managed(self, policy_id: str) -> tuple[str, PolicyKind, str]:
        if self._managed is None:
            attached = self._iam.list_attached_role_policies(RoleName=self._role)
            self._managed = {p["PolicyName"]: p["PolicyArn"] for p in attached["AttachedPolicies"]}
            role = self._iam.get_role(RoleName=self._role)["Role"]
            self._boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
            if self._boundary is not None:
                self._managed[self._boundary.rsplit("/", 1)[-1]] = self._boundary
        arn = self._managed.get(policy_id) or policy_id
        if not arn.startswith("arn:"):
            raise SimulationInconclusive(f"AWS cited managed policy {policy_id}, not attached")
        version = self._iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        stored = self._iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
        text = unquote(stored["Document"])
        if arn == self._boundary:
            return f"boundary of role {self._role}", PolicyKind.BOUNDARY, text
        return f"policy {arn!r} of role {self._role}", PolicyKind.IDENTITY, text

    def of(self, policy_id: str, policy_type: str) -> tuple[str, PolicyKind, str]:
        """(name as reports call it, kind, text) of the policy a statement came from."""
        if policy_type == _INLINE_TYPE:
            return self.inline(policy_id)
        if policy_type in _RESOURCE_TYPES:
            return self.resource()
        if policy_type in _MANAGED_TYPES:
            return self.managed(policy_id)
        raise SimulationInconclusive(
            f"AWS cited {policy_type} policy {policy_id}, which a role's simulation has not"
        )


def _resource_kind(arn: str) -> ResourceKind:
    """How AWS evaluates the resource's policy (a role's trust policy is never simulated)."""
    return "kms-key" if is_kms_key(arn) else "generic"


def _cited(matched: Mapping[str, Any], texts: _PolicyTexts) -> StatementCited:
    """The statement a ``MatchedStatements`` entry designates, with its Sid and effect."""
    name, kind, text = texts.of(matched["SourcePolicyId"], matched.get("SourcePolicyType", ""))
    start = matched.get("StartPosition")
    index = statement_at(text, Position(start["Line"], start["Column"])) if start else None
    if index is None:
        raise SimulationInconclusive(f"cannot find the statement AWS cited in {name}")
    statements = json.loads(text)["Statement"]
    statement = statements[index] if isinstance(statements, list) else statements
    return StatementCited(name, kind, statement.get("Sid") or index, statement["Effect"])


def _decision(
    result: Mapping[str, Any], principal_arn: str, with_resource_policy: bool, texts: _PolicyTexts
) -> DecisionEvidence:
    specific = (result.get("ResourceSpecificResults") or [result])[0]
    outcome = result["EvalDecision"]
    resource = result["EvalResourceName"]
    cited = tuple(_cited(m, texts) for m in specific.get("MatchedStatements") or ())
    allows = {c.kind for c in cited if c.effect == "Allow"}
    granting = tuple(c for c in cited if c.effect == "Allow" and c.kind is not PolicyKind.BOUNDARY)
    side = PolicyKind(RESOURCE_POLICY_KIND[_resource_kind(resource)])
    if outcome == "allowed" and side is PolicyKind.KEY and side not in allows:
        raise SimulationInconclusive(
            f"AWS allowed {result['EvalActionName']} on {resource} citing no key-policy "
            "statement: its simulator may not apply KMS's rule that the key policy must allow"
        )
    if outcome == "explicitDeny":
        deciding = tuple(c for c in cited if c.effect == "Deny")
    elif outcome == "allowed":
        deciding = granting
    else:
        deciding = ()
    lacking: list[PolicyKind] = []
    if outcome == "implicitDeny":
        required = [PolicyKind.IDENTITY] + ([side] if with_resource_policy else [])
        # Across accounts AWS also says which side allowed (keys naming a resource policy
        # are its side, any other the caller's identity policies).
        details = specific.get("EvalDecisionDetails") or {}
        allowed_sides = {
            side if "resource" in key.lower() else PolicyKind.IDENTITY
            for key, value in details.items()
            if value == "allowed"
        }
        lacking = [kind for kind in required if kind not in allows | allowed_sides]
        boundary = specific.get("PermissionsBoundaryDecisionDetail") or {}
        if boundary.get("AllowedByPermissionsBoundary") is False:
            lacking.append(PolicyKind.BOUNDARY)
    missing = specific.get("MissingContextValues") or []
    reason = f"AWS's policy simulator: {outcome}" + (
        f" (no value given for {', '.join(missing)})" if missing else ""
    )
    return DecisionEvidence(
        action=result["EvalActionName"],
        resource=resource,
        allowed=outcome == "allowed",
        reason=reason,
        matched=cited,
        deciding=deciding,
        lacking=tuple(lacking),
        principal=principal_arn,
    )


def simulate_request(target: Target, intent: Intent, policies: FetchedPolicies) -> Explanation:
    """Every decision ``intent`` needs (its ``also`` calls after it, up to the first
    refusal), as AWS's simulator answers each with the resource's policy as fetched."""
    decisions: list[DecisionEvidence] = []
    request_id = None
    for step in (intent, *intent.also):
        explanation = simulate(
            target,
            step.principal,
            step.action,
            step.resource,
            _resource_policy_text(step, policies),
            _owner(step),
            dict(step.context),
        )
        request_id = request_id or explanation.request_id
        decisions += explanation.decisions
        if not decisions[-1].allowed:
            break
    return Explanation(Source.SIMULATED, request_id, tuple(decisions))


def _resource_policy_text(intent: Intent, policies: FetchedPolicies) -> str | None:
    if is_kms_key(intent.resource):
        return json.dumps(policies.key_policy(intent.resource))
    if intent.resource.startswith("arn:aws:s3:::") and intent.resource_account:
        document = policies.bucket_policy(bucket_of(intent.resource), intent.resource_account)
        return None if document is None else json.dumps(document)
    return None


def _owner(intent: Intent) -> str:
    return intent.resource_account or intent.resource.split(":")[4]
