"""The inputs of one run: name prefix, region and account ids, and the names derived from them.

Every name the harness creates or deletes is derived here, so deploy and teardown (which may
run in another process, after a crash) agree on what belongs to a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.targets import Target

# Stack of each account, by account role; deployed in this order, deleted in reverse.
STACK_SUFFIX = {
    "shared-services": "shared-services",
    "training": "training-roles",
    "production": "production",
}


DEFAULT_PREFIX = "mlops"


@dataclass(frozen=True)
class Settings:
    """What a run is parameterised by; ``accounts`` maps account role -> 12-digit id."""

    prefix: str
    region: str
    accounts: Mapping[str, str] = field(default_factory=dict)  # the target's account roles

    @classmethod
    def for_target(cls, target: Target, prefix: str | None = None) -> Settings:
        """Settings for ``target``; without a prefix, the target's run id (the ``aws`` target
        requires every name to start with it), else ``mlops``."""
        prefix = prefix or getattr(target, "run_id", None) or DEFAULT_PREFIX
        accounts = {role: target.account_id(role) for role in target.account_roles}
        return cls(prefix, target.region, accounts)

    def stack_name(self, account: str) -> str:
        return f"{self.prefix}-{STACK_SUFFIX[account]}"

    @property
    def pipeline_name(self) -> str:
        """``infra/pipeline/pipeline.json`` names the pipeline after the prefix."""
        return self.prefix

    @property
    def training_stack_name(self) -> str:
        """The stack the pipeline itself deploys into the training account."""
        return f"{self.prefix}-training"

    @property
    def endpoint_name(self) -> str:
        return f"{self.prefix}-endpoint"

    @property
    def canary_role_name(self) -> str:
        return f"{self.prefix}-canary-admin"

    @property
    def other_key_alias(self) -> str:
        """Alias of the second key, used to prove puts under any other key are refused."""
        return f"alias/{self.prefix}-harness-other-key"

    def canary_role_arn(self, account: str) -> str:
        return f"arn:aws:iam::{self.accounts[account]}:role/{self.canary_role_name}"

    @property
    def wiring_settings(self) -> dict[str, str]:
        """The ``settings`` part of :meth:`harness.render.Wiring.from_outputs`."""
        return {"Prefix": self.prefix, "Region": self.region}
