"""The ``localstack`` target: LocalStack, or its open fork LocalEmu, as the AWS of the suite.

It uses a runtime already reachable (``LOCALSTACK_HOST`` or ``AWS_ENDPOINT_URL``, read through
localstack-client) or starts the host-mode runtime itself. Accounts are selected the emulator's
way: a 12-digit access key id is the account's root, which bootstraps a ``harness-deployer``
role there (sessions are that role's, as on the other targets). It declares no enforcement:
LocalStack's open build enforces no bucket, key, trust or identity policy and runs no
training, endpoint or pipeline. What an emulator does enforce or apply (LocalEmu with
``IAM_ENFORCEMENT=1``) is measured by probes at start
(:mod:`harness.targets.localstack.probes`), never assumed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from harness.targets.base import Capability, Target
from harness.targets.deployer import ADMINISTRATOR_POLICY, DEPLOYER_ROLE, root_trust
from harness.targets.localstack import probes
from harness.targets.localstack.runtime import HostRuntime, fetch_health
from harness.targets.sessions import new_session, session_from

DEFAULT_ACCOUNTS: Mapping[str, str] = {
    "shared-services": "111111111111",
    "training": "222222222222",
    "production": "333333333333",
}
FLAVOUR_VARIABLE = "HARNESS_LOCALSTACK_FLAVOUR"
ENDPOINT_VARIABLES = ("LOCALSTACK_HOST", "AWS_ENDPOINT_URL")
SECRET = "test"
"""Emulators accept any secret; the access key id alone selects the account."""

_DEPLOYER_SECONDS = 12 * 3600
_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"},
    s3={"addressing_style": "path"},
    connect_timeout=5,
    read_timeout=120,
)


@dataclass(frozen=True)
class Flavour:
    """One emulator: its Python package (and so its runtime module, health path and the
    entry-point group listing its CloudFormation resource providers) and extra settings."""

    name: str
    package: str
    enforcement: bool = False
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def health_path(self) -> str:
        return f"/_{self.package}/health"

    @property
    def resource_provider_group(self) -> str:
        return f"{self.package}.cloudformation.resource_providers"

    def environment(self, accounts: Iterable[str]) -> dict[str, str]:
        """Runtime settings; with enforcement the account ids are the roots' access keys."""
        env = dict(self.settings)
        if self.enforcement:
            env |= {"IAM_ENFORCEMENT": "1", "ROOT_ACCESS_KEYS": ",".join(sorted(accounts))}
        return env


FLAVOURS: Mapping[str, Flavour] = {
    "localstack": Flavour("localstack", "localstack"),
    "localemu": Flavour("localemu", "localemu", enforcement=True),
}


class LocalStackUnavailable(RuntimeError):
    """No runtime answers at the configured endpoint, or none can be started here."""


def configured_endpoint(environ: Mapping[str, str]) -> str | None:
    """The endpoint of an already running emulator named by the environment, if any:
    ``AWS_ENDPOINT_URL`` as is, else ``LOCALSTACK_HOST`` as localstack-client reads it."""
    if environ.get("AWS_ENDPOINT_URL", "").strip():
        return environ["AWS_ENDPOINT_URL"].strip()
    host = environ.get("LOCALSTACK_HOST", "").strip()
    if not host:
        return None
    from localstack_client.config import get_service_endpoint  # needed only for this case

    return get_service_endpoint("s3", localstack_host=host)


# The services (as ``SERVICES`` spells them) of every resource type in infra/'s stacks, so the
# runtime serves what the project deploys; a target does not read the project's templates, and
# a unit test keeps this equal to them.
PROJECT_SERVICES = frozenset(
    {"codecommit", "events", "iam", "kms", "lambda", "logs", "s3", "stepfunctions"}
)


class LocalStackTarget(Target):
    """See the module docstring. ``flavour`` is ``localstack`` or ``localemu`` (default from
    ``HARNESS_LOCALSTACK_FLAVOUR``); ``endpoint_url`` overrides the environment."""

    name = "localstack"
    capabilities: frozenset[Capability] = frozenset()
    measured_capabilities = frozenset(probes.PROBES)
    stack_poll_seconds = 1.0
    stack_timeout_seconds = 600.0

    def __init__(
        self,
        flavour: str | None = None,
        endpoint_url: str | None = None,
        accounts: Mapping[str, str] | None = None,
        region: str = "us-east-1",
        services: Iterable[str] = (),
        workdir: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        chosen = flavour or environ.get(FLAVOUR_VARIABLE, "") or "localstack"
        if chosen not in FLAVOURS:
            raise ValueError(f"unknown flavour {chosen!r}; known: {sorted(FLAVOURS)}")
        self.flavour = FLAVOURS[chosen]
        self.accounts = dict(accounts or DEFAULT_ACCOUNTS)
        for account_id in self.accounts.values():
            if not (account_id.isdigit() and len(account_id) == 12):
                raise ValueError(f"account id {account_id!r} is not 12 digits")
        self.region = region
        self.services = frozenset(services) | {"sts", "iam", "s3", "kms", "cloudformation"}
        self._given_endpoint = endpoint_url or configured_endpoint(environ)
        self._workdir = workdir
        self.runtime: HostRuntime | None = None
        self.endpoint_url: str | None = None
        self.probe_results: list[probes.ProbeResult] = []
        self._deployers: dict[str, boto3.Session] = {}
        self.version = f"{self.flavour.name} (not started)"

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.endpoint_url is not None:
            return
        if self._given_endpoint is not None:
            if fetch_health(self._given_endpoint, self.flavour.health_path) is None:
                raise LocalStackUnavailable(
                    f"no {self.flavour.name} answers at {self._given_endpoint} "
                    f"({self.flavour.health_path})"
                )
            self.endpoint_url = self._given_endpoint
        else:
            self._start_runtime()
        health = fetch_health(self.endpoint_url, self.flavour.health_path) or {}
        self.version = f"{self.flavour.name} {health.get('version', 'unknown')}"
        try:
            for account_id in self.accounts.values():
                self._deployers[account_id] = self._bootstrap_deployer(account_id)
            self.probe_results = probes.measure(self)
        except BaseException:
            self.stop()
            raise
        self.capabilities = frozenset(r.capability for r in self.probe_results if r.enforced)

    def _start_runtime(self) -> None:
        if find_spec(self.flavour.package) is None:
            raise LocalStackUnavailable(
                f"{self.flavour.package} is not installed in this interpreter and no endpoint "
                f"is configured ({' or '.join(ENDPOINT_VARIABLES)}); run `tox -e localstack` "
                "or `docker compose -f docker-compose.localstack.yml up`"
            )
        self.runtime = HostRuntime(
            services=self.services | PROJECT_SERVICES,
            package=self.flavour.package,
            health_path=self.flavour.health_path,
            extra_env=self.flavour.environment(self.accounts.values()),
            workdir=self._workdir,
        )
        self.runtime.start()
        self.endpoint_url = self.runtime.endpoint_url

    def _bootstrap_deployer(self, account_id: str) -> boto3.Session:
        """Create the account's deployer role (trusting the root, allowed everything) and
        return a session as it."""
        iam = self.client("iam", self.root_session(account_id))
        try:
            role = iam.create_role(
                RoleName=DEPLOYER_ROLE,
                AssumeRolePolicyDocument=json.dumps(root_trust(account_id)),
                MaxSessionDuration=_DEPLOYER_SECONDS,
            )["Role"]
        except iam.exceptions.EntityAlreadyExistsException:  # left by a run that was killed
            role = iam.get_role(RoleName=DEPLOYER_ROLE)["Role"]
        iam.put_role_policy(
            RoleName=DEPLOYER_ROLE,
            PolicyName="AdministratorAccess",
            PolicyDocument=json.dumps(ADMINISTRATOR_POLICY),
        )
        return self._assume(self.root_session(account_id), role["Arn"], "harness")

    def _remove_deployers(self) -> None:
        """An emulator we did not start outlives us: leave it as we found it."""
        for account_id in list(self._deployers):
            iam = self.client("iam", self.root_session(account_id))
            iam.delete_role_policy(RoleName=DEPLOYER_ROLE, PolicyName="AdministratorAccess")
            iam.delete_role(RoleName=DEPLOYER_ROLE)
            del self._deployers[account_id]

    def stop(self) -> None:
        if self.runtime is None and self.endpoint_url is not None:
            self._remove_deployers()
        self._deployers = {}
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        self.endpoint_url = None

    # what this emulator can deploy ---------------------------------------------------------
    def unsupported_resource_types(self, template: Mapping[str, Any]) -> list[str]:
        """Types in ``template`` with no CloudFormation resource provider in the installed
        emulator (its entry points). Unknown when the emulator is not installed here."""
        providers = {
            entry.name.lower()
            for entry in metadata.entry_points(group=self.flavour.resource_provider_group)
        }
        if not providers:
            return []
        types = {r.get("Type", "") for r in template.get("Resources", {}).values()}
        return sorted(t for t in types if t.startswith("AWS::") and t.lower() not in providers)

    # sessions and clients ------------------------------------------------------------------
    def root_session(self, account: str) -> boto3.Session:
        """The account's root: its 12-digit id is the access key id."""
        return new_session(
            aws_access_key_id=self.account_id(account),
            aws_secret_access_key=SECRET,
            region_name=self.region,
        )

    def session(
        self, account: str, role_arn: str | None = None, session_name: str = "harness"
    ) -> boto3.Session:
        account_id = self.account_id(account)
        if account_id not in self._deployers:
            raise RuntimeError("the localstack target is not started")
        deployer = self._deployers[account_id]
        return deployer if role_arn is None else self._assume(deployer, role_arn, session_name)

    def _assume(self, caller: boto3.Session, role_arn: str, session_name: str) -> boto3.Session:
        sts = self.client("sts", caller)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        return session_from(credentials, self.region)

    def _endpoint(self) -> str:
        if self.endpoint_url is None:
            raise RuntimeError("the localstack target is not started")
        return self.endpoint_url

    def client_settings(self, service: str) -> dict[str, Any]:
        return {"endpoint_url": self._endpoint(), "config": _CONFIG}
