"""The system under proof: the key, the bucket and every role, with their policy documents.

Built by the caller from rendered templates or from a deployment (``harness.prove``); the
proof reads nothing else. Each document keeps the name decisions cite it by, and a digest of
its text, so a result can be reused while the documents it read are unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from harness.policy.organization import Organization
from harness.policy.policy import Policy

ALLOW_ALL = Policy.parse(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    name="worst-case identity policy (allows everything)",
)
"""What any principal may hold: no identity policy allows more, and none can deny for it."""


@dataclass(frozen=True)
class Document:
    """A policy document and the name decisions cite it by."""

    name: str
    text: Mapping[str, Any] | str

    @cached_property
    def policy(self) -> Policy:
        return Policy.parse(self.text, name=self.name)  # type: ignore[arg-type]

    @cached_property
    def digest(self) -> str:
        body = self.text if isinstance(self.text, str) else json.dumps(self.text, sort_keys=True)
        return hashlib.sha256(f"{self.name}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class Role:
    """A role of the system: its trust policy and the identity policies it holds.

    ``unread`` names identity policies whose text the proof does not have (an AWS managed
    policy of rendered templates): the proof takes the role's identity as allowing everything
    where that is the worst case, and says so. ``boundary``: its permissions boundary, which
    caps the identity policies; ``unread_boundary`` names one whose text the proof lacks
    (taken as no boundary, the worst case for what it keeps out, and said so).
    """

    arn: str
    trust: Document
    identity: tuple[Document, ...] = ()
    unread: tuple[str, ...] = ()
    boundary: Document | None = None
    unread_boundary: str | None = None


@dataclass(frozen=True)
class System:
    """What the properties are proven on. ``whole``: every account's policies are there (a
    fragment overlaid on the infra is proven for its safety properties only).
    ``organization``: the SCPs over the accounts, when given (``scps``: their documents,
    as decisions cite them)."""

    region: str
    key_arn: str
    key_policy: Document | None
    bucket: str
    bucket_account: str
    bucket_policy: Document | None
    roles: tuple[Role, ...] = ()
    whole: bool = True
    notes: tuple[str, ...] = field(default=())
    organization: Organization | None = None
    scps: tuple[Document, ...] = ()

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    def role(self, arn: str) -> Role | None:
        return next((r for r in self.roles if r.arn == arn), None)

    def documents(self) -> Iterator[Document]:
        for document in (self.key_policy, self.bucket_policy):
            if document is not None:
                yield document
        for role in self.roles:
            yield role.trust
            yield from role.identity
            if role.boundary is not None:
                yield role.boundary
        yield from self.scps
