"""A team's service control policies, attached to the training and production accounts before
deploy (``harness run --scp FILE``), so a run shows whether their guardrails break the pipeline.

The SCP is read and checked before anything is deployed (a bad file is named, and nothing is
made), then created and attached through the Organizations API as the management account (A),
as an organization's administrator would. Only targets whose accounts form an organization can
take one: ``local`` makes its organization when asked (:data:`ORGANIZATION_TARGETS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.policy import Policy, PolicyError
from harness.targets import Target

ORGANIZATION_TARGETS = frozenset({"local"})
GUARDED_ACCOUNTS = ("training", "production")


class GuardrailError(ValueError):
    """An SCP file that cannot be used: the file and why."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"--scp {path}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Scp:
    """An SCP as the user wrote it: its name (the file's stem) and its JSON text."""

    name: str
    content: str
    path: Path

    @property
    def policy(self) -> Policy:
        """The SCP as the engine reads it, cited as ``SCP <file name>``."""
        return Policy.parse(self.content, f"SCP {self.path.name}")


def read_scp(path: Path) -> Scp:
    """Read and check one SCP file: JSON, a valid policy, no Principal (an SCP has none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise GuardrailError(path, f"cannot read it: {error.strerror or error}") from error
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise GuardrailError(path, f"not JSON: {error}") from error
    try:
        policy = Policy.parse(text, str(path))
    except PolicyError as error:
        raise GuardrailError(path, f"not a valid SCP: {error}") from error
    with_principal = [s.label for s in policy.statements if s.principal is not None]
    if with_principal:
        raise GuardrailError(
            path, f"not a valid SCP: {with_principal[0]} has a Principal (SCPs have none)"
        )
    return Scp(path.stem, text, path)


def attach_scps(target: Target, scps: list[Scp]) -> list[str]:
    """Create each SCP in the organization and attach it to B and C; the policy ids."""
    management = target.session("shared-services")
    organizations = target.client("organizations", management)
    ids = []
    for scp in scps:
        created = organizations.create_policy(
            Name=scp.name,
            Description=f"harness run --scp {scp.path.name}",
            Type="SERVICE_CONTROL_POLICY",
            Content=scp.content,
        )
        policy_id = created["Policy"]["PolicySummary"]["Id"]
        for account in GUARDED_ACCOUNTS:
            organizations.attach_policy(PolicyId=policy_id, TargetId=target.account_id(account))
        ids.append(policy_id)
    return ids
