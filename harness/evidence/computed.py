"""Explain a request by deciding it with the harness's engine on the policies the target holds.

For targets that keep no decision log (real AWS, LocalStack): the key, bucket and trust
policies and the caller's identity policies are read back through the APIs, as each account's
deployer, and the same engine as the local gateway decides. The result is labelled computed: it
says what the policies mean, not what the target did.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from harness.evidence.model import (
    DecisionEvidence,
    Explanation,
    Intent,
    PolicyKind,
    Source,
    StatementCited,
)
from harness.policy import Decision, Policy, PolicyError, Principal, Request, evaluate
from harness.targets import Target

_RESOURCE_KIND = {"kms": "kms-key", "sts": "role-trust"}


def cited(ref: Any) -> StatementCited:
    """An engine statement reference as evidence."""
    return StatementCited(ref.policy, PolicyKind(ref.kind), ref.sid, ref.effect)


def from_decision(
    decision: Decision, action: str, resource: str, principal: str
) -> DecisionEvidence:
    """The engine's decision in the shape every source of evidence shares."""
    return DecisionEvidence(
        action=action,
        resource=resource,
        allowed=decision.allowed,
        reason=decision.reason,
        matched=tuple(map(cited, decision.matched)),
        deciding=tuple(map(cited, decision.statements)),
        lacking=tuple(PolicyKind(kind) for kind in decision.lacking),
        principal=principal,
    )


class ComputedExplainer:
    """See the module docstring; policies are read afresh for every request."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def explain(self, request_id: str | None, intent: Intent) -> Explanation:
        decisions = [self.decide(intent)]
        if decisions[0].allowed:
            for call in intent.also:
                decisions.append(self.decide(call))
                if not decisions[-1].allowed:
                    break
        return Explanation(Source.COMPUTED, request_id, tuple(decisions))

    def decide(self, intent: Intent) -> DecisionEvidence:
        service = intent.action.split(":", 1)[0]
        resource_kind = _RESOURCE_KIND.get(service, "generic")
        try:
            identity, boundary = self._identity(intent.principal)
            decision = evaluate(
                Request(
                    Principal.from_arn(intent.principal),
                    intent.action,
                    intent.resource,
                    dict(intent.context),
                ),
                identity=identity,
                resource=self._resource_policy(intent, service),
                resource_account=intent.resource_account,
                resource_kind=resource_kind,  # type: ignore[arg-type]
                boundary=boundary,
            )
        except (PolicyError, ClientError) as error:
            decision = Decision(False, f"cannot compute: {error}")
        return from_decision(decision, intent.action, intent.resource, intent.principal)

    def _iam(self, account_id: str) -> Any:
        return self.target.client("iam", self.target.session(account_id))

    def _identity(self, arn: str) -> tuple[list[Policy], Policy | None]:
        """A role's inline and attached policies and its boundary; none for a root."""
        if ":role/" not in arn:
            return [], None
        account_id, name = arn.split(":")[4], arn.rsplit("/", 1)[1]
        iam = self._iam(account_id)
        role = iam.get_role(RoleName=name)["Role"]
        policies = [
            Policy.parse(
                iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"],
                name=f"policy {policy!r} of role {name}",
            )
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
        ]
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            policies.append(
                self._managed(
                    iam, attached["PolicyArn"], f"{attached['PolicyName']} of role {name}"
                )
            )
        boundary_arn = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        boundary = (
            self._managed(iam, boundary_arn, f"boundary of role {name}") if boundary_arn else None
        )
        return policies, boundary

    @staticmethod
    def _managed(iam: Any, arn: str, name: str) -> Policy:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
        return Policy.parse(document["Document"], name=name)

    def _resource_policy(self, intent: Intent, service: str) -> Policy | None:
        if service == "sts":
            account_id, name = intent.resource.split(":")[4], intent.resource.rsplit("/", 1)[1]
            trust = self._iam(account_id).get_role(RoleName=name)["Role"][
                "AssumeRolePolicyDocument"
            ]
            return Policy.parse(trust, name=f"trust policy of {intent.resource}")
        if service == "kms":
            account_id = intent.resource.split(":")[4]
            kms = self.target.client("kms", self.target.session(account_id))
            text = kms.get_key_policy(KeyId=intent.resource, PolicyName="default")["Policy"]
            return Policy.parse(text, name=f"key policy of {intent.resource}")
        if service == "s3" and intent.resource_account:
            bucket = intent.resource.removeprefix("arn:aws:s3:::").split("/", 1)[0]
            s3 = self.target.client("s3", self.target.session(intent.resource_account))
            try:
                text = s3.get_bucket_policy(Bucket=bucket)["Policy"]
            except ClientError as error:
                if error.response["Error"]["Code"] == "NoSuchBucketPolicy":
                    return None
                raise
            return Policy.parse(json.loads(text), name=f"bucket policy of {bucket}")
        return None
