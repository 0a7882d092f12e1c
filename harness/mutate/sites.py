"""The policies of ``infra/`` that mutants are made of, and where each lives in a deployment.

The account templates are rendered offline for the deployment's accounts, prefix and region
(:func:`harness.access.resolve_account_stacks`, as ``harness access-matrix`` renders them); the
key's and the data publisher's placeholders are bound to the live key and deployer. Each
policy is then one :class:`Site`: the key policy (by key ARN), the bucket policy (by bucket),
each role's trust policy (by role ARN) and each of its inline policies (role ARN and name).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.access import STACK_ACCOUNT, resolve_account_stacks
from harness.allowlist import DEPLOYER_ROLE
from harness.cloudformation import ResolvedTemplate
from harness.deploy import Deployment
from harness.evidence import PolicyKind, StatementCited
from harness.evidence.computed import inline_policy_name, role_name


class Kind(StrEnum):
    """What a mutant changes; ``harness mutate --only`` takes these."""

    KEY = "key"
    BUCKET = "bucket"
    TRUST = "trust"
    IDENTITY = "identity"
    TRAINING = "training"  # the training stack's encryption setting, not a policy


RESOURCE_POLICIES = frozenset({Kind.KEY, Kind.BUCKET, Kind.TRUST})
_EVIDENCE_KIND = {
    Kind.KEY: PolicyKind.KEY,
    Kind.BUCKET: PolicyKind.RESOURCE,
    Kind.TRUST: PolicyKind.TRUST,
    Kind.IDENTITY: PolicyKind.IDENTITY,
}


@dataclass(frozen=True)
class Site:
    """One policy of ``infra/`` (``document``, as rendered and bound) and where it lives:
    ``resource`` is the key ARN, the bucket name or the role ARN; ``policy_name`` names an
    inline policy; ``account_id`` owns the resource."""

    kind: Kind
    resource: str
    account_id: str
    document: Mapping[str, Any]
    policy_name: str = ""

    @property
    def name(self) -> str:
        """The policy as reports call it."""
        if self.kind is Kind.IDENTITY:
            return inline_policy_name(role_name(self.resource), self.policy_name)
        return f"{self.kind.value} policy of {self.resource}"

    @property
    def short(self) -> str:
        """A compact name for progress lines and ids."""
        if self.kind is Kind.IDENTITY:
            return f"identity {role_name(self.resource)}/{self.policy_name}"
        if self.kind is Kind.TRUST:
            return f"trust {role_name(self.resource)}"
        return self.kind.value

    @property
    def statements(self) -> list[dict[str, Any]]:
        raw = self.document.get("Statement", [])
        return [dict(s) for s in (raw if isinstance(raw, list) else [raw])]

    def cites(self, statement: StatementCited, sid: str | int) -> bool:
        """Whether evidence citing ``statement`` cites statement ``sid`` of this policy (the
        gateway names a bucket policy after the object or bucket ARN a request was on)."""
        if statement.kind is not _EVIDENCE_KIND.get(self.kind) or statement.sid != sid:
            return False
        if self.kind is Kind.IDENTITY:
            return statement.policy == self.name
        named = statement.policy.split(" of ", 1)[-1]
        if self.kind is Kind.BUCKET:
            arn = f"arn:aws:s3:::{self.resource}"
            return named in (self.resource, arn) or named.startswith(f"{arn}/")
        return named == self.resource


def _bind(document: Any, replacements: Mapping[str, str]) -> dict[str, Any]:
    """``document`` with every placeholder value of the offline rendering replaced."""
    text = json.dumps(document)
    for rendered, live in replacements.items():
        text = text.replace(rendered, live)
    return dict(json.loads(text))


def infra_sites(deployment: Deployment) -> list[Site]:
    """Every key, bucket, trust and inline identity policy of the account templates, bound to
    ``deployment``'s names."""
    settings = deployment.settings
    accounts = {letter: settings.accounts[stack] for stack, letter in STACK_ACCOUNT.items()}
    stacks = resolve_account_stacks(accounts, settings.prefix, settings.region)
    [key] = _of_type(stacks, "AWS::KMS::Key")
    shared = accounts["A"]
    replacements = {
        key.attributes["Arn"]: deployment.key_arn,
        f"arn:aws:iam::{shared}:role/{DEPLOYER_ROLE}": deployment.deployer_arns["shared-services"],
    }
    sites = [
        Site(Kind.KEY, deployment.key_arn, shared, _bind(key.properties["KeyPolicy"], replacements))
    ]
    sites += [
        Site(
            Kind.BUCKET,
            policy.properties["Bucket"],
            shared,
            _bind(policy.properties["PolicyDocument"], replacements),
        )
        for policy in _of_type(stacks, "AWS::S3::BucketPolicy")
    ]
    for role in _of_type(stacks, "AWS::IAM::Role"):
        arn = role.attributes["Arn"]
        account_id = arn.split(":")[4]
        trust = _bind(role.properties["AssumeRolePolicyDocument"], replacements)
        sites.append(Site(Kind.TRUST, arn, account_id, trust))
        sites += [
            Site(
                Kind.IDENTITY,
                arn,
                account_id,
                _bind(inline["PolicyDocument"], replacements),
                inline["PolicyName"],
            )
            for inline in role.properties.get("Policies", [])
        ]
    return sites


def _of_type(stacks: Mapping[str, ResolvedTemplate], type_name: str) -> Iterator[Any]:
    for stack in stacks.values():
        for resource in stack.resources.values():
            if resource.type == type_name:
                yield resource
