"""Who makes a request: the principal and the names a policy may use for it.

A request is made by one principal, but a resource policy may name it at several levels:
an assumed-role session is also its role and its account, a user is also its account.
AWS evaluates ``NotPrincipal`` against every level (see ``levels``), while a ``Principal``
match on any level counts, with an account-level match meaning *delegation* to the
account's own identity policies rather than a grant to the principal itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any

from harness.policy.errors import PolicyError

_ACCOUNT = re.compile(r"\d{12}\Z")


class Kind(StrEnum):
    """The principal types AWS distinguishes (values are ``aws:PrincipalType`` values)."""

    ROOT = "Account"
    USER = "User"
    ROLE = "Role"  # a role itself, standing for any session of it
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    SERVICE = "Service"
    WEB_IDENTITY = "WebIdentityUser"
    ANONYMOUS = "Anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    """A request's principal. Build with ``from_arn``, ``service`` or ``federated``."""

    kind: Kind
    arn: str
    account: str | None = None
    role_arn: str | None = None  # for roles and role sessions
    session: str | None = None  # session or federated user name
    name: str | None = None  # user, role or service name
    provider: str | None = None  # identity provider for web identity / SAML principals
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    derived: dict[str, str] = field(init=False, repr=False, compare=False)
    """The condition keys ``context`` gives, worked out with the principal: every request
    copies them (read only; ``context`` gives a copy to change)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "derived", self._context())  # frozen: set once

    def __hash__(self) -> int:
        # Equal principals have equal ARNs; the generated hash would also hash ``kind``, and an
        # enum member hashes in Python code (policies key their caches by principal).
        return hash(self.arn)

    @classmethod
    @lru_cache(maxsize=4096)  # the same callers come back request after request: one object
    def from_arn(cls, arn: str) -> Principal:
        """Parse an IAM/STS principal ARN or a bare 12-digit account id (its root)."""
        if _ACCOUNT.match(arn):
            return cls(Kind.ROOT, f"arn:aws:iam::{arn}:root", account=arn)
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("iam", "sts"):
            raise PolicyError(f"not an IAM or STS principal ARN: {arn!r}")
        _, partition, service, _, account, resource = parts
        if not _ACCOUNT.match(account):
            raise PolicyError(f"principal ARN {arn!r} has no 12-digit account id")
        if service == "iam" and resource == "root":
            return cls(Kind.ROOT, arn, account=account)
        kind_name, _, rest = resource.partition("/")
        if service == "iam" and kind_name == "user" and rest:
            return cls(Kind.USER, arn, account=account, name=rest.rsplit("/", 1)[-1])
        if service == "iam" and kind_name == "role" and rest:
            return cls(Kind.ROLE, arn, account=account, role_arn=arn, name=rest.rsplit("/", 1)[-1])
        if service == "sts" and kind_name == "assumed-role" and "/" in rest:
            role, session = rest.split("/", 1)
            role_arn = f"arn:{partition}:iam::{account}:role/{role}"
            return cls(
                Kind.ASSUMED_ROLE,
                arn,
                account=account,
                role_arn=role_arn,
                session=session,
                name=role,
            )
        if service == "sts" and kind_name == "federated-user" and rest:
            return cls(Kind.FEDERATED_USER, arn, account=account, session=rest)
        raise PolicyError(f"unsupported principal ARN {arn!r}")

    @classmethod
    @lru_cache(maxsize=1024)  # one object per caller: plans are cached per principal object
    def service(cls, name: str) -> Principal:
        """An AWS service principal such as ``sagemaker.amazonaws.com``."""
        return cls(Kind.SERVICE, name, name=name)

    @classmethod
    @lru_cache(maxsize=1024)
    def federated(cls, provider: str, subject: str = "") -> Principal:
        """A web-identity or SAML principal authenticated by ``provider``."""
        return cls(Kind.WEB_IDENTITY, provider, provider=provider, session=subject)

    @classmethod
    @lru_cache(maxsize=1)
    def anonymous(cls) -> Principal:
        """An unauthenticated caller; only a ``"*"`` principal can match it."""
        return cls(Kind.ANONYMOUS, "anonymous")

    @property
    def is_root(self) -> bool:
        return self.kind is Kind.ROOT

    @property
    def has_identity_policies(self) -> bool:
        """Services, web identities and anonymous callers have no IAM identity policies."""
        return self.account is not None

    def levels(self) -> tuple[tuple[str, str], ...]:
        """Every (type, name) under which a policy's principal element can name this caller.

        The first entry is the principal itself; the account comes last. Worked out once:
        every statement of a resource policy asks.
        """
        found = self._memo.get("levels")
        if found is None:
            found = self._memo["levels"] = self._levels()
        return found

    def _levels(self) -> tuple[tuple[str, str], ...]:
        if self.kind is Kind.SERVICE:
            return (("Service", self.arn),)
        if self.kind is Kind.WEB_IDENTITY:
            return (("Federated", self.arn),)
        if self.kind is Kind.ANONYMOUS:
            return ()
        own = ("AWS", self.arn)
        account = ("AWS", f"account:{self.account}")
        if self.kind is Kind.ROOT:
            return (account,)
        if self.kind is Kind.ASSUMED_ROLE:
            return (own, ("AWS", f"role:{self.account}:{self.name}"), account)
        if self.kind is Kind.ROLE:
            return (("AWS", f"role:{self.account}:{self.name}"), account)
        return (own, account)

    def context(self) -> dict[str, str]:
        """The global condition keys AWS derives from the principal (lower-case names); a new
        dict each time."""
        return self.derived.copy()

    def _context(self) -> dict[str, str]:
        if self.kind is Kind.SERVICE:
            return {"aws:principalservicename": self.arn, "aws:principaltype": "Service"}
        if self.account is None:
            return {"aws:principaltype": self.kind.value}
        keys = {
            "aws:principalaccount": self.account,
            "aws:principaltype": self.kind.value,
            "aws:principalarn": self.role_arn or self.arn,
        }
        if self.kind is Kind.USER and self.name:
            keys["aws:username"] = self.name
        if self.kind is Kind.ROOT:
            keys["aws:userid"] = self.account
        return keys


def principal_level(kind: str, value: str) -> tuple[str, str]:
    """Normalise one entry of a policy's ``Principal``/``NotPrincipal`` to a ``levels`` key."""
    if kind != "AWS":
        return (kind, value)
    if _ACCOUNT.match(value):
        return ("AWS", f"account:{value}")
    parts = value.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam":
        if parts[5] == "root":
            return ("AWS", f"account:{parts[4]}")
        if parts[5].startswith("role/"):
            return ("AWS", f"role:{parts[4]}:{parts[5].rsplit('/', 1)[-1]}")
    return ("AWS", value)
