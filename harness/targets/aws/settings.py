"""What a run on real accounts may touch and spend, read from the environment (never the repo).

``HARNESS_AWS_ACCOUNTS``            ``shared-services=<id>,training=<id>,production=<id>``: the
                                    allow-list; the run refuses accounts that differ. Optional
                                    ``outsider=<id>``: an account of yours that belongs to none
                                    of the three, where the "any other account" canary acts
``HARNESS_AWS_PROFILE_<ROLE>``      optional profile per account (ROLE: SHARED_SERVICES, ...)
``HARNESS_AWS_ROLE_ARN_<ROLE>``     optional role assumed from that profile (or the default chain)
``HARNESS_RUN_ID``                  optional run id (default: generated)
``HARNESS_AWS_MAX_RUN_MINUTES``     bound on the run (default 120)
``HARNESS_AWS_INSTANCE_TYPES``      allowed SageMaker instance types (comma-separated)
``HARNESS_AWS_MAX_TRAINING_SECONDS`` bound on a training job's MaxRuntimeInSeconds
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.targets.base import ACCOUNT_ROLES, OUTSIDER

DEFAULT_INSTANCE_TYPES = frozenset({"ml.t2.medium", "ml.m5.large"})
DEFAULT_MAX_TRAINING_SECONDS = 3600
DEFAULT_MAX_RUN_MINUTES = 120
RUN_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]{3,15}$")
"""Short, lower-case, starts with a letter: valid in bucket, stack, role and endpoint names."""


class SettingsError(ValueError):
    """The run is not configured well enough to start; the message says what is missing."""


@dataclass(frozen=True)
class AccountAccess:
    """How to reach one account: a profile (None: the default chain) and an optional role
    assumed from it."""

    profile: str | None = None
    role_arn: str | None = None


@dataclass(frozen=True)
class CostLimits:
    instance_types: frozenset[str] = DEFAULT_INSTANCE_TYPES
    max_training_seconds: int = DEFAULT_MAX_TRAINING_SECONDS
    max_run_seconds: float = DEFAULT_MAX_RUN_MINUTES * 60.0


@dataclass(frozen=True)
class AwsSettings:
    allowed_accounts: Mapping[str, str]  # account role -> 12-digit id
    access: Mapping[str, AccountAccess] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: new_run_id())
    region: str = "us-east-1"
    limits: CostLimits = field(default_factory=CostLimits)

    def __post_init__(self) -> None:
        if set(self.allowed_accounts) - {OUTSIDER} != set(ACCOUNT_ROLES):
            raise SettingsError(
                f"the allow-list must name exactly the accounts {list(ACCOUNT_ROLES)} "
                f"(and optionally {OUTSIDER}), got {sorted(self.allowed_accounts)}"
            )
        for role, account_id in self.allowed_accounts.items():
            if not re.fullmatch(r"\d{12}", account_id):
                raise SettingsError(f"account id of {role} is not 12 digits: {account_id!r}")
        if len(set(self.allowed_accounts.values())) != len(self.allowed_accounts):
            raise SettingsError("the accounts must be distinct")
        if not RUN_ID_PATTERN.match(self.run_id):
            raise SettingsError(f"run id {self.run_id!r} does not match {RUN_ID_PATTERN.pattern}")

    def access_of(self, role: str) -> AccountAccess:
        return self.access.get(role, AccountAccess())

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> AwsSettings:
        listed = environ.get("HARNESS_AWS_ACCOUNTS", "").strip()
        if not listed:
            raise SettingsError(
                "HARNESS_AWS_ACCOUNTS is not set: name the three allowed accounts as "
                "shared-services=<id>,training=<id>,production=<id>"
            )
        try:
            allowed = dict(item.strip().split("=", 1) for item in listed.split(","))
        except ValueError as error:
            raise SettingsError(f"HARNESS_AWS_ACCOUNTS is malformed: {listed!r}") from error
        access = {}
        for role in (*ACCOUNT_ROLES, OUTSIDER):
            suffix = role.upper().replace("-", "_")
            access[role] = AccountAccess(
                profile=environ.get(f"HARNESS_AWS_PROFILE_{suffix}") or None,
                role_arn=environ.get(f"HARNESS_AWS_ROLE_ARN_{suffix}") or None,
            )
        limits = CostLimits(
            instance_types=frozenset(
                t.strip()
                for t in environ.get("HARNESS_AWS_INSTANCE_TYPES", "").split(",")
                if t.strip()
            )
            or DEFAULT_INSTANCE_TYPES,
            max_training_seconds=int(
                environ.get("HARNESS_AWS_MAX_TRAINING_SECONDS", DEFAULT_MAX_TRAINING_SECONDS)
            ),
            max_run_seconds=60.0
            * float(environ.get("HARNESS_AWS_MAX_RUN_MINUTES", DEFAULT_MAX_RUN_MINUTES)),
        )
        return cls(
            allowed_accounts=allowed,
            access=access,
            run_id=environ.get("HARNESS_RUN_ID") or new_run_id(),
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            limits=limits,
        )


def new_run_id() -> str:
    return "h" + secrets.token_hex(4)
