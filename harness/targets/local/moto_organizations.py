"""moto's Organizations state: the local target's organization, made at start and read by the
gateway on each decision.

moto_state's counterpart for Organizations (kept apart while moto_state is being split into a
per-target adapter): it alone knows moto's organization model. SCPs and RCPs are attached
through the Organizations API like on AWS; this module only bootstraps the organization with
the target's fixed account ids (moto's CreateAccount would draw random ones) and reads it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from moto.core.base_backend import backend_lock
from moto.organizations.models import FakeAccount, organizations_backends
from moto.organizations.utils import DEFAULT_RCP_POLICY_ID, DEFAULT_SCP_POLICY_ID

from harness.policy import Policy
from harness.policy.organization import Organization
from harness.targets.local.moto_state import MotoResourceState

_PARTITION = "aws"
_POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")


def _backend(account_id: str) -> Any:
    return organizations_backends[account_id][_PARTITION]


def bootstrap(management: str, members: Iterable[str], region: str) -> None:
    """An organization with all features, SCPs and RCPs enabled, ``management`` as its
    management account and ``members`` invited into it, under the root."""
    members = [m for m in members if m != management]
    with backend_lock:
        for account in (management, *members):
            organizations_backends.master_accounts.pop(account, None)
        backend = _backend(management)
        backend.create_organization(region=region, FeatureSet="ALL")
        root = backend.ou[0]
        for policy_type in _POLICY_TYPES:
            backend.enable_policy_type(RootId=root.id, PolicyType=policy_type)
        for account in members:
            joined = FakeAccount.__new__(FakeAccount)  # invited: no access role is created
            joined.__dict__.update(
                vars(backend.accounts[0]),
                id=account,
                name=account,
                email=f"{account}@example.com",
                joined_method="INVITED",
                parent_id=root.id,
                attached_policies=[],
                tags={},
            )
            backend.accounts.append(joined)
            for policy_id in (DEFAULT_SCP_POLICY_ID, DEFAULT_RCP_POLICY_ID):
                backend.attach_policy(PolicyId=policy_id, TargetId=account)
            organizations_backends.master_accounts[account] = (management, _PARTITION)


def _management_of(account_id: str) -> str | None:
    found = organizations_backends.master_accounts.get(account_id)
    if found is not None:
        return found[0]
    backend = organizations_backends.get(account_id)
    partition = backend.get(_PARTITION) if backend is not None else None
    return account_id if partition is not None and partition.org is not None else None


def organization_of(account_id: str) -> Organization | None:
    """The organization ``account_id`` belongs to, with its attached SCPs and RCPs, or None."""
    management = _management_of(account_id)
    if management is None:
        return None
    backend = _backend(management)
    org = backend.org
    if org is None:
        return None
    with backend_lock:
        units = {unit.id: unit for unit in backend.ou}
        parents = {account.id: _ous(account.parent_id, units) for account in backend.accounts}
        scps: dict[str, tuple[Policy, ...]] = {}
        rcps: dict[str, tuple[Policy, ...]] = {}
        for target in (*backend.ou, *backend.accounts):
            scps[target.id] = _policies(target, "SERVICE_CONTROL_POLICY")
            rcps[target.id] = _policies(target, "RESOURCE_CONTROL_POLICY")
    return Organization(org.id, org.root_id, management, parents, scps, rcps)


def _ous(parent_id: str, units: dict[str, Any]) -> tuple[str, ...]:
    """The OU ids from below the root down to ``parent_id``."""
    path: list[str] = []
    while parent_id in units and units[parent_id].type != "ROOT":
        path.insert(0, parent_id)
        parent_id = units[parent_id].parent_id
    return tuple(path)


def _policies(target: Any, policy_type: str) -> tuple[Policy, ...]:
    kind = "SCP" if policy_type == "SERVICE_CONTROL_POLICY" else "RCP"
    return tuple(
        Policy.coerce(p.content, f"{kind} {p.name!r} ({p.id})")
        for p in target.attached_policies
        if p.type == policy_type
    )


class OrganizationsResourceState(MotoResourceState):
    """moto's resource state, with the ARNs of the organization's roots, OUs, accounts and
    policies that Organizations calls are authorized on."""

    def organizations_arn(self, entity_id: str, *, caller_account: str) -> str | None:
        management = _management_of(caller_account)
        if management is None:
            return None
        backend = _backend(management)
        with backend_lock:
            entities = (*backend.ou, *backend.accounts, *backend.policies)
            found = next((e for e in entities if e.id == entity_id), None)
        if found is None:
            return None
        arn: str = found.arn
        return arn
