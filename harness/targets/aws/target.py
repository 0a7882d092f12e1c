"""The ``aws`` target: three real accounts, guarded so a run touches only what it may.

Before anything is created: each account's credentials (profile and/or role, the standard
boto3 chain) must belong to the allow-listed account id, and the plan is printed. Every stack
name starts with the run id and every stack carries the run tag, which CloudFormation passes
on to its resources. A cost guard refuses instance types and training runtimes outside small
allow-lists, and a clock bounds the run. ``stop`` (on pass, failure, or SIGINT/SIGTERM, which
raise :class:`KeyboardInterrupt` so the context manager's exit runs) removes everything the
run left, found by tag and name, and then checks nothing is left.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from harness.deadlines import bound
from harness.targets.aws import guards, sweep
from harness.targets.aws.settings import AwsSettings
from harness.targets.base import Capability, Target
from harness.targets.sessions import new_session

_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"}, read_timeout=120)
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_TEARDOWN_STACK_SECONDS = 3600.0


class ResourcesLeaked(RuntimeError):
    """Resources of the run are still there after teardown; the message lists them."""


class AwsTarget(Target):
    """See the module docstring. ``settings`` default to :meth:`AwsSettings.from_environment`."""

    name = "aws"
    capabilities = frozenset(Capability)  # the real thing does all of it
    stack_poll_seconds = 10.0
    policy_propagation_seconds = 15.0

    def __init__(
        self,
        settings: AwsSettings | None = None,
        say: Callable[[str], None] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._settings = settings
        self._environ = os.environ if environ is None else environ
        self.say = say or (lambda line: print(line, file=sys.stderr))
        self._sessions: dict[str, boto3.Session] = {}
        self._clock: guards.RunClock | None = None
        self._timer: threading.Timer | None = None
        self._previous_handlers: dict[int, Any] = {}
        self.leaks: list[str] = []

    @property
    def settings(self) -> AwsSettings:
        """Read lazily: an unstarted target (e.g. for its capability table) needs none."""
        if self._settings is None:
            self._settings = AwsSettings.from_environment(self._environ)
        return self._settings

    @property
    def run_id(self) -> str:
        return self.settings.run_id

    @property
    def region(self) -> str:  # type: ignore[override]
        return self.settings.region

    @property
    def accounts(self) -> Mapping[str, str]:  # type: ignore[override]
        return self.settings.allowed_accounts

    @property
    def stack_tags(self) -> Mapping[str, str]:  # type: ignore[override]
        return {sweep.RUN_TAG: self.run_id}

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._clock is not None:
            return
        observed = {}
        for role in self.account_roles:
            access = self.settings.access_of(role)
            try:
                session = self._open(role)
                identity = session.client("sts", config=_CONFIG).get_caller_identity()
            except (BotoCoreError, ClientError) as error:
                raise guards.GuardRefused(
                    f"refusing to start: no usable credentials for {role} (profile "
                    f"{access.profile or 'default chain'}, role {access.role_arn or 'none'}): "
                    f"{error}"
                ) from error
            observed[role] = identity["Account"]
            self._sessions[role] = session
        guards.check_accounts(observed, self.settings.allowed_accounts)
        limits = self.settings.limits
        self.say(
            f"aws target, run {self.run_id} in {self.region}: accounts "
            + ", ".join(f"{r}={a}" for r, a in self.accounts.items())
            + f"; will create stacks, roles, bucket, key, pipeline and endpoint named "
            f"{self.run_id}-*, tagged {sweep.RUN_TAG}={self.run_id}; instance types "
            f"{sorted(limits.instance_types)}, training <= {limits.max_training_seconds}s, "
            f"run <= {limits.max_run_seconds:.0f}s; everything is removed at the end"
        )
        self._clock = guards.RunClock(limits.max_run_seconds)
        self._install_interrupts()

    def _open(self, role: str) -> boto3.Session:
        """The account's session: its profile (or the default chain), then its role if any."""
        access = self.settings.access_of(role)
        base = new_session(profile_name=access.profile, region_name=self.region)
        if access.role_arn is None:
            return base
        sts = base.client("sts", config=_CONFIG)
        credentials = sts.assume_role(
            RoleArn=access.role_arn, RoleSessionName=f"harness-{self.run_id}"
        )["Credentials"]
        return self._session_with(base, credentials)

    def _session_with(self, base: boto3.Session, credentials: Mapping[str, Any]) -> boto3.Session:
        """Keep the profile (its endpoint and CA settings) with the assumed credentials."""
        return new_session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self.region,
            profile_name=base.profile_name if base.profile_name != "default" else None,
        )

    def _install_interrupts(self) -> None:
        """SIGINT/SIGTERM and the run bound become KeyboardInterrupt, so ``stop`` runs."""
        if threading.current_thread() is not threading.main_thread():
            self.say(
                "aws target: off the main thread: no interrupt handlers, no alarm at the run bound"
            )
            return
        for number in _SIGNALS:
            self._previous_handlers[number] = signal.signal(number, _interrupt)
        if self._clock is not None:  # only with the handler in place: SIGTERM must not kill
            self._timer = threading.Timer(
                self._clock.max_seconds, os.kill, (os.getpid(), signal.SIGTERM)
            )
            self._timer.daemon = True
            self._timer.start()

    def stop(self) -> None:
        """Remove the run's resources in every account (production first), then fail with
        :class:`ResourcesLeaked` if the leak check still finds any."""
        if self._clock is None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join(bound("stop"))
            self._timer = None
        self.stack_timeout_seconds = _TEARDOWN_STACK_SECONDS  # teardown outlives the run bound
        errors: list[str] = []
        try:
            for role in reversed(self.account_roles):
                self.say(f"aws target: removing run {self.run_id} from {role}")
                errors += sweep.sweep(
                    self._client_in(role),
                    self.run_id,
                    lambda name, role=role: self.destroy_stack(role, name),
                )
            self.leaks = self.leak_check()
        finally:
            for number, handler in self._previous_handlers.items():
                signal.signal(number, handler)
            self._previous_handlers = {}
            self._clock = None
        if self.leaks or errors:
            raise ResourcesLeaked(
                f"run {self.run_id}: left {self.leaks or 'nothing'}; teardown errors {errors}"
            )

    def leak_check(self) -> list[str]:
        """Everything of the run still in any account, by tag and name."""
        return [
            f"{item} in {role}"
            for role in self.account_roles
            for item in sweep.discover(self._client_in(role), self.run_id)
        ]

    def _client_in(self, role: str) -> Callable[[str], BaseClient]:
        """Clients of the account's session for the sweep and the leak check (each made once:
        ``Target.client`` keeps them by session)."""
        session = self.session(role)
        return lambda service: self.client(service, session)

    # guarded operations --------------------------------------------------------------------
    def deploy_stack(
        self,
        account: str,
        name: str,
        template_body: str,
        parameters: Mapping[str, str],
        role_arn: str | None = None,
    ) -> dict[str, str]:
        if self._clock is None:
            raise RuntimeError("the aws target is not started")
        self._clock.check(f"stack {name}")
        guards.check_name(name, self.run_id)
        if "Prefix" in parameters:
            guards.check_name(f"{parameters['Prefix']}-", self.run_id)
        self.check_stack(_parsed(template_body), parameters)
        self.stack_timeout_seconds = max(self._clock.remaining(), 0.0)
        return super().deploy_stack(account, name, template_body, parameters, role_arn)

    def check_stack(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        guards.check_cost(template, parameters, self.settings.limits)

    # sessions and clients ------------------------------------------------------------------
    def session(
        self, account: str, role_arn: str | None = None, session_name: str = "harness"
    ) -> boto3.Session:
        role = next(r for r, a in self.accounts.items() if a == self.account_id(account))
        if role not in self._sessions:
            raise RuntimeError("the aws target is not started")
        base = self._sessions[role]
        if role_arn is None:
            return base
        sts = self.client("sts", base)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        return self._session_with(base, credentials)

    def client_settings(self, service: str) -> dict[str, Any]:
        return {"config": _CONFIG}

    def insecure_client(self, service: str, session: boto3.Session) -> BaseClient:
        """A client over plain HTTP, to prove requests without TLS are refused."""
        return session.client(service, region_name=self.region, use_ssl=False, config=_CONFIG)


def _parsed(template_body: str) -> dict[str, Any]:
    """The template the cost guard reads: deploy hands every target its templates as JSON
    (short YAML tags resolved there), so this target needs no CloudFormation decoder."""
    try:
        template = json.loads(template_body)
    except ValueError as error:
        raise guards.GuardRefused(f"cannot read the template (JSON): {error}") from error
    if not isinstance(template, dict):
        raise guards.GuardRefused("cannot check the template: it is not a JSON object")
    return template


def _interrupt(number: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(number).name}: tearing the run down")
