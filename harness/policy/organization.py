"""Which organization policies apply to a request, and the ``aws:PrincipalOrg*`` keys.

The engine takes SCPs and RCPs as one policy per level (root, each OU, the account); this
module says which levels exist for an account and who is exempt, as the Organizations user
guide documents it:

- SCPs limit the principals of member accounts, their root users included; they do not affect
  the management account, service-linked roles or AWS service principals
  (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html).
- RCPs limit access to the resources of member accounts, whoever the caller is; they do not
  affect the management account's resources, apply only to the services that support them,
  never to ``kms:RetireGrant``, nor to AWS managed keys
  (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html,
  https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policies.html).
  Doubtful, not modelled: whether RCPs skip service-linked roles (the pages we read do not
  say); the list of supported services grows, ours is the documented first five.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from harness.policy.errors import PolicyError
from harness.policy.policy import Policy
from harness.policy.principal import Kind, Principal

RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager"})
_RCP_EXEMPT_ACTIONS = frozenset({"kms:retiregrant"})
_SERVICE_LINKED_PATH = ":role/aws-service-role/"


@dataclass(frozen=True)
class Organization:
    """An organization's shape and its attached SCPs and RCPs.

    ``parents`` gives each member account's OU ids from the root down (empty: directly under
    the root); ``scps``/``rcps`` the policies attached to each target id (the root id, an OU
    id or an account id).
    """

    id: str
    root_id: str
    management_account: str
    parents: Mapping[str, Sequence[str]]
    scps: Mapping[str, Sequence[Policy]] = field(default_factory=dict)
    rcps: Mapping[str, Sequence[Policy]] = field(default_factory=dict)

    def is_member(self, account: str | None) -> bool:
        """In the organization, the management account included."""
        return account is not None and (
            account == self.management_account or account in self.parents
        )

    def _levels(
        self, account: str, attached: Mapping[str, Sequence[Policy]], kind: str
    ) -> list[Policy]:
        """One policy per level from the root to the account: the union of what is attached
        there. A level with nothing attached allows nothing, as on AWS once the default
        full-access policy is detached."""
        targets = (self.root_id, *self.parents[account], account)
        levels = []
        for target in targets:
            policies = attached.get(target, ())
            statements = tuple(s for p in policies for s in p.statements)
            if not statements:
                raise PolicyError(
                    f"no {kind} is attached to {target}: every level of the organization "
                    f"needs one (AWS attaches Full access by default)"
                )
            levels.append(Policy(f"{kind}s attached to {target}", statements))
        return levels

    def scps_for(self, principal: Principal) -> list[Policy]:
        """The SCP levels that limit ``principal`` (none if it is exempt)."""
        account = principal.account
        if (
            account is None
            or account == self.management_account
            or account not in self.parents
            or principal.kind is Kind.SERVICE
            or _SERVICE_LINKED_PATH in (principal.role_arn or "")
        ):
            return []
        return self._levels(account, self.scps, "SCP")

    def rcps_for(
        self, action: str, resource_account: str, aws_managed_key: bool = False
    ) -> list[Policy]:
        """The RCP levels that guard a resource of ``resource_account`` for ``action``."""
        service = action.split(":", 1)[0].lower()
        if (
            resource_account == self.management_account
            or resource_account not in self.parents
            or service not in RCP_SERVICES
            or action.lower() in _RCP_EXEMPT_ACTIONS
            or aws_managed_key
        ):
            return []
        return self._levels(resource_account, self.rcps, "RCP")

    def path_of(self, account: str) -> str:
        """``aws:PrincipalOrgPaths``' value for an account: org, root and OUs to its parent
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths)."""
        ous = self.parents.get(account, ())
        return "/".join((self.id, self.root_id, *ous)) + "/"

    def principal_context(self, principal: Principal) -> dict[str, str | list[str]]:
        """``aws:PrincipalOrgID`` and ``aws:PrincipalOrgPaths`` for a principal of a member
        account; nothing for anyone else (the keys are then absent, as on AWS)."""
        if principal.kind is Kind.SERVICE or not self.is_member(principal.account):
            return {}
        assert principal.account is not None
        return {
            "aws:PrincipalOrgID": self.id,
            "aws:PrincipalOrgPaths": [self.path_of(principal.account)],
        }

    def resource_context(self, resource_account: str) -> dict[str, str | list[str]]:
        """``aws:ResourceOrgID`` and ``aws:ResourceOrgPaths`` for a member's resource."""
        if not self.is_member(resource_account):
            return {}
        return {
            "aws:ResourceOrgID": self.id,
            "aws:ResourceOrgPaths": [self.path_of(resource_account)],
        }
