"""Explain a request by deciding it with the harness's engine on the policies the target holds.

For targets that keep no decision log (real AWS, LocalStack): the key, bucket and trust
policies and the caller's identity policies are read back through the APIs, as each account's
deployer, and the same engine as the local gateway decides. The result is labelled computed: it
says what the policies mean, not what the target did.

The reading (:class:`FetchedPolicies`) and the deciding (:func:`decide`, :func:`decide_chain`)
are apart, so ``harness mutate`` can decide the same requests on a snapshot of the fetched
policies with one policy replaced.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

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
SERVICE_SUFFIX = ".amazonaws.com"


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


def inline_policy_name(role_name: str, policy_name: str) -> str:
    """How evidence names a role's inline policy (the local gateway names it alike)."""
    return f"policy {policy_name!r} of role {role_name}"


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def bucket_of(s3_arn: str) -> str:
    return s3_arn.removeprefix("arn:aws:s3:::").split("/", 1)[0]


class PolicySource(Protocol):
    """The policies that take part in deciding a request."""

    def identity(self, principal: str) -> tuple[list[Policy], Policy | None]:
        """The principal's identity policies and permissions boundary."""
        ...

    def resource(self, intent: Intent) -> Policy | None:
        """The resource-side policy of the request: key, bucket or trust policy."""
        ...


class FetchedPolicies:
    """The policies as the target holds them now, read afresh on every call (through clients
    made once per account: making a boto3 client costs more than the reads)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def _client(self, service: str, account_id: str) -> Any:
        with self._lock:
            key = (service, account_id)
            if key not in self._clients:
                self._clients[key] = self.target.client(service, self.target.session(account_id))
            return self._clients[key]

    def _iam(self, account_id: str) -> Any:
        return self._client("iam", account_id)

    def inline(self, role_arn: str) -> dict[str, dict[str, Any]]:
        """A role's inline policies, by name."""
        iam, name = self._iam(role_arn.split(":")[4]), role_name(role_arn)
        return {
            policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
        }

    def identity(self, principal: str) -> tuple[list[Policy], Policy | None]:
        """A role's inline and attached policies and its boundary; none for a root."""
        if ":role/" not in principal:
            return [], None
        account_id, name = principal.split(":")[4], role_name(principal)
        iam = self._iam(account_id)
        role = iam.get_role(RoleName=name)["Role"]
        policies = [
            Policy.parse(document, name=inline_policy_name(name, policy))
            for policy, document in self.inline(principal).items()
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

    def trust(self, role_arn: str) -> dict[str, Any]:
        iam = self._iam(role_arn.split(":")[4])
        return dict(iam.get_role(RoleName=role_name(role_arn))["Role"]["AssumeRolePolicyDocument"])

    def key_policy(self, key_arn: str) -> dict[str, Any]:
        kms = self._client("kms", key_arn.split(":")[4])
        return dict(json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]))

    def bucket_policy(self, bucket: str, account_id: str) -> dict[str, Any] | None:
        s3 = self._client("s3", account_id)
        try:
            return dict(json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]))
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchBucketPolicy":
                return None
            raise

    def resource(self, intent: Intent) -> Policy | None:
        service = intent.action.split(":", 1)[0]
        if service == "sts":
            trust = self.trust(intent.resource)
            return Policy.parse(trust, name=f"trust policy of {intent.resource}")
        if service == "kms":
            text = self.key_policy(intent.resource)
            return Policy.parse(text, name=f"key policy of {intent.resource}")
        if service == "s3" and intent.resource_account:
            bucket = bucket_of(intent.resource)
            document = self.bucket_policy(bucket, intent.resource_account)
            if document is None:
                return None
            return Policy.parse(document, name=f"bucket policy of {bucket}")
        return None


class IdentityAlone:
    """A principal's identity policies as fetched (once per principal), and no resource
    policy: a request is decided as if every resource policy allowed it."""

    def __init__(self, fetched: FetchedPolicies) -> None:
        self.fetched = fetched
        self._identities: dict[str, tuple[list[Policy], Policy | None]] = {}

    def identity(self, principal: str) -> tuple[list[Policy], Policy | None]:
        if principal not in self._identities:
            self._identities[principal] = self.fetched.identity(principal)
        return self._identities[principal]

    def resource(self, intent: Intent) -> Policy | None:
        return None


class ResourceAlone:
    """The resource policies as fetched (once per resource), and no identity policy: a
    request is decided as if the principal's own policies granted nothing."""

    def __init__(self, fetched: FetchedPolicies) -> None:
        self.fetched = fetched
        self._resources: dict[tuple[str, str], Policy | None] = {}

    def identity(self, principal: str) -> tuple[list[Policy], Policy | None]:
        return [], None

    def resource(self, intent: Intent) -> Policy | None:
        service = intent.action.split(":", 1)[0]
        key = (service, intent.resource if service != "s3" else bucket_of(intent.resource))
        if key not in self._resources:
            self._resources[key] = self.fetched.resource(intent)
        return self._resources[key]


def principal_of(arn: str) -> Principal:
    """The engine's principal: an AWS service (``sagemaker.amazonaws.com``) or an IAM ARN."""
    return Principal.service(arn) if arn.endswith(SERVICE_SUFFIX) else Principal.from_arn(arn)


def decide(intent: Intent, policies: PolicySource) -> DecisionEvidence:
    """One decision of the engine on ``policies``; a policy that cannot be read or parsed
    makes it a refusal that says so. With :class:`IdentityAlone` the request is decided as
    one in the principal's own account on a resource with no policy of its own."""
    service = intent.action.split(":", 1)[0]
    resource_kind = _RESOURCE_KIND.get(service, "generic")
    resource_account = intent.resource_account
    if isinstance(policies, IdentityAlone):
        resource_kind, resource_account = "generic", intent.principal.split(":")[4]
    try:
        identity, boundary = policies.identity(intent.principal)
        decision = evaluate(
            Request(
                principal_of(intent.principal),
                intent.action,
                intent.resource,
                dict(intent.context),
            ),
            identity=identity,
            resource=policies.resource(intent),
            resource_account=resource_account,
            resource_kind=resource_kind,  # type: ignore[arg-type]
            boundary=boundary,
        )
    except (PolicyError, ClientError) as error:
        decision = Decision(False, f"cannot compute: {error}")
    return from_decision(decision, intent.action, intent.resource, intent.principal)


def decide_chain(intent: Intent, policies: PolicySource) -> tuple[DecisionEvidence, ...]:
    """Every decision the request needs, in order, up to the first refusal."""
    decisions = [decide(intent, policies)]
    if decisions[0].allowed:
        for call in intent.also:
            decisions.append(decide(call, policies))
            if not decisions[-1].allowed:
                break
    return tuple(decisions)


class ComputedExplainer:
    """See the module docstring; policies are read afresh for every request."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.policies = FetchedPolicies(target)

    def explain(self, request_id: str | None, intent: Intent) -> Explanation:
        return Explanation(Source.COMPUTED, request_id, decide_chain(intent, self.policies))

    def decide(self, intent: Intent) -> DecisionEvidence:
        return decide(intent, self.policies)
