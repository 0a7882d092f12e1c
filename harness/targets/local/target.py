"""The embedded ``local`` target: moto in-process behind the enforcement gateway.

Two loopback listeners (HTTP and HTTPS with a generated CA) serve the same gateway; the three
accounts and an outsider are bootstrapped each with a deployer role, as an organisation's
account-access role would be, and with its root's long-term key. No Docker, no network; starts
in about a second.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

from harness.cloudformation import Caller, CloudFormationApi, CloudFormationService, ValidationError
from harness.cloudformation.providers.base import ClientFactory
from harness.deadlines import Changes, bound
from harness.gateway.credentials import Credential, CredentialStore
from harness.gateway.tls import TlsMaterial, generate_tls_material
from harness.targets.deployer import ADMINISTRATOR_POLICY, DEPLOYER_ROLE, root_trust
from harness.targets.local import faults, moto_organizations, moto_state
from harness.targets.local.admin import AdminApi, with_admin
from harness.targets.local.codepipeline.local import PipelineServices
from harness.targets.local.decision_log import DecisionLog
from harness.targets.local.endpoints import LocalEndpoints, ServiceRoleDenied
from harness.targets.local.gateway import Gateway, whole_service
from harness.targets.local.policy_simulator import PolicySimulator
from harness.targets.local.server import Listener, MotoDispatcher
from harness.targets.local.services import LocalRuntimes, ServiceContext
from harness.targets.sessions import session_from

DEFAULT_ACCOUNTS: Mapping[str, str] = {
    "shared-services": "111111111111",
    "training": "222222222222",
    "production": "333333333333",
    "outsider": "777788889999",
}
"""Account ids used unless the caller gives others (any 12-digit ids work); the outsider
belongs to nobody in the design (see :data:`harness.targets.base.OUTSIDER`)."""

EXTRA_ACCOUNTS = "HARNESS_LOCAL_EXTRA_ACCOUNTS"
"""Comma-separated ids of more accounts to make besides the given ones, each with its deployer
and root like the others (a deployment does not use them): a replayed counterexample of
``harness prove`` whose principal is in such an account can then act as it."""
_ACCOUNT_ID = re.compile(r"\d{12}")


def extra_accounts(environ: Mapping[str, str]) -> dict[str, str]:
    """The accounts :data:`EXTRA_ACCOUNTS` names, each under its own id."""
    listed = [i.strip() for i in environ.get(EXTRA_ACCOUNTS, "").split(",") if i.strip()]
    wrong = [i for i in listed if not _ACCOUNT_ID.fullmatch(i)]
    if wrong:
        raise ValueError(f"{EXTRA_ACCOUNTS} {', '.join(wrong)}: must be 12-digit account ids")
    return {account: account for account in listed}


_ACCOUNTS_IN_USE: set[str] = set()
_ACCOUNTS_IN_USE_LOCK = threading.Lock()
_LOG_FORMAT = "%(asctime)s %(threadName)s %(name)s: %(message)s"
_LONG_SESSION = datetime.timedelta(hours=12)


class LocalTarget(LocalEndpoints):
    """See the module docstring. ``workdir`` keeps TLS material and the decision log.

    With ``organization``, the accounts form an AWS organization at start: A (shared
    services) its management account, every other account a member under the root, each with
    FullAWSAccess and RCPFullAWSAccess attached; SCPs and RCPs are then attached through the
    Organizations API and enforced by the gateway.

    ``port`` fixes the HTTPS listener's port (HTTP takes the next one; 0: any free ports), and
    ``decisions`` the decision log's file (default: in ``workdir``), for ``harness serve``;
    with ``admin_token``, the HTTPS listener also answers the admin API
    (:mod:`harness.targets.local.admin`) to that token, for suites run in other processes.
    """

    stack_poll_seconds = 1.0  # a look when an operation ends (stack_changes), else this often

    def __init__(
        self,
        accounts: Mapping[str, str] | None = None,
        region: str = "us-east-1",
        workdir: Path | str | None = None,
        organization: bool = False,
        port: int = 0,
        decisions: Path | None = None,
        admin_token: str | None = None,
    ) -> None:
        super().__init__()
        self.accounts = dict(accounts or DEFAULT_ACCOUNTS)
        for account in extra_accounts(os.environ):
            if account not in self.accounts.values():
                self.accounts[account] = account
        self.organization = organization
        self._port = port
        self._decisions = decisions
        self.admin_token = admin_token
        self.region = region
        self._given_workdir = Path(workdir) if workdir is not None else None
        self.workdir: Path | None = None
        self.store = CredentialStore()
        self._deployers: dict[str, Credential] = {}
        self._roots: dict[str, Credential] = {}
        self._listeners: list[Listener] = []
        self._tls: TlsMaterial | None = None
        self._lock = threading.Lock()
        self.gateway: Gateway | None = None
        self.cloudformation: CloudFormationService | None = None
        self.runtimes: LocalRuntimes | None = None
        self.pipelines: PipelineServices | None = None
        self._moto: moto_state.GatewayAuthorized | None = None
        self.stuck_workers: list[str] = []  # named by the last stop
        self._fault = faults.Fault()  # a drill's, from HARNESS_FAULT
        self._log: logging.FileHandler | None = None

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._listeners:
                return
            if "MOTO_ACCOUNT_ID" in os.environ:
                raise RuntimeError(
                    "MOTO_ACCOUNT_ID is set: moto would put every request in that account"
                )
            self._claim_accounts()
            try:
                self._start_claimed()
            except BaseException:
                if self._moto is not None:
                    self._moto.close()
                    self._moto = None
                self._close_log()
                self._release_accounts()
                raise

    def _start_claimed(self) -> None:
        self.workdir = self._given_workdir or Path(tempfile.mkdtemp(prefix="local-target-"))
        self._tls = generate_tls_material(self.workdir / "tls")
        self._log = logging.FileHandler(self.workdir / "target.log", encoding="utf-8")
        self._log.setFormatter(
            logging.Formatter("%(asctime)s %(threadName)s %(name)s: %(message)s")
        )
        logging.getLogger("harness").addHandler(self._log)
        moto_state.reset_accounts(self.accounts.values())
        for account_id in self.accounts.values():
            self._bootstrap(account_id)
        if self.organization:
            moto_organizations.bootstrap(
                self.account_id("shared-services"), self.accounts.values(), self.region
            )
        self._fault = faults.from_environment(os.environ)
        self.cloudformation = CloudFormationService(
            self._stack_clients, before_provider=self._fault.before_provider
        )
        self._moto = moto_state.GatewayAuthorized(MotoDispatcher())
        backend = self._moto
        self.runtimes = self._start_runtimes(backend)
        self.pipelines = PipelineServices(self)
        self.gateway = Gateway(
            self.store,
            backend,
            {
                "cloudformation": whole_service(
                    CloudFormationApi(self.cloudformation, account_of=self._account_of_key)
                ),
                **self.runtimes.services(),
                **self.pipelines.services(),
                "iam": PolicySimulator(),
            },
            DecisionLog(self._decisions or self.workdir / "decisions.jsonl"),
        )
        served: Any = self.gateway
        if self.admin_token is not None:  # HTTPS only: the token never travels in clear
            served = with_admin(self.gateway, AdminApi(self, self.admin_token))
        https = Listener(served, self._tls, self._port)
        try:  # a fixed port may be taken: close the first listener with the failure
            http = Listener(self.gateway, port=self._port and self._port + 1)
        except BaseException:
            https.close()
            raise
        self._listeners = [https, http]

    def stop(self) -> None:
        """Stop within the ``stop`` bound per kind of worker, even when one is stuck: those
        still running are named on stderr and in ``stuck_workers`` (daemon threads, they end
        with the process) and the target is stopped all the same."""
        with self._lock:
            stuck: list[str] = []
            if self.cloudformation is not None:
                stuck += self.cloudformation.wait()
            if self.pipelines is not None:
                stuck += self.pipelines.stop()
            if self.runtimes is not None:
                stuck += self.runtimes.stop()
            self._fault.release()  # a hung drill step ends now, making no more calls
            for listener in self._listeners:
                listener.close()
            if self._moto is not None:
                self._moto.close()
                self._moto = None
            self._close_log()
            if self.gateway is not None:
                self.gateway.log.close()
            if self._listeners:
                self._release_accounts()
            self._listeners = []
            self.stuck_workers = stuck
            if stuck:
                print(
                    f"local target stopped after {bound('stop'):g} s per kind of worker with "
                    f"these still running: {'; '.join(stuck)}",
                    file=sys.stderr,
                )
            if self._given_workdir is None and self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def log_path(self) -> Path | None:
        """The target's own log (providers' and runtimes' tracebacks), while it runs."""
        return None if self._log is None else Path(self._log.baseFilename)

    def _close_log(self) -> None:
        if self._log is not None:
            logging.getLogger("harness").removeHandler(self._log)
            self._log.close()
            self._log = None

    def _claim_accounts(self) -> None:
        """moto's state is per process: two live targets must not share an account."""
        with _ACCOUNTS_IN_USE_LOCK:
            taken = _ACCOUNTS_IN_USE.intersection(self.accounts.values())
            if taken:
                raise RuntimeError(
                    f"accounts {sorted(taken)} are in use by another local target in this process"
                )
            _ACCOUNTS_IN_USE.update(self.accounts.values())

    def _release_accounts(self) -> None:
        with _ACCOUNTS_IN_USE_LOCK:
            _ACCOUNTS_IN_USE.difference_update(self.accounts.values())

    def _bootstrap(self, account_id: str) -> None:
        role_arn = moto_state.ensure_role(
            account_id,
            DEPLOYER_ROLE,
            root_trust(account_id),
            {"AdministratorAccess": ADMINISTRATOR_POLICY},
        )
        self._deployers[account_id] = self.store.issue_role_session(
            role_arn, "harness", duration=_LONG_SESSION
        )
        self._roots[account_id] = self.store.issue_long_term(f"arn:aws:iam::{account_id}:root")

    # endpoints -----------------------------------------------------------------------------
    @property
    def endpoint_url(self) -> str:
        return self._listener(0).url

    @property
    def http_endpoint_url(self) -> str:
        return self._listener(1).url

    @property
    def ca_bundle(self) -> Path:
        if self._tls is None:
            raise RuntimeError("the local target is not started")
        return self._tls.ca_bundle

    @property
    def decision_log(self) -> DecisionLog:
        if self.gateway is None:
            raise RuntimeError("the local target is not started")
        return self.gateway.log

    def _listener(self, index: int) -> Listener:
        if not self._listeners:
            raise RuntimeError("the local target is not started")
        return self._listeners[index]

    # credentials, as the sessions of LocalEndpoints take them --------------------------------
    def _deployer(self, account_id: str) -> Mapping[str, Any]:
        return self._deployers[account_id].as_sts()

    def _root(self, account_id: str) -> Mapping[str, Any]:
        return self.root_credential(account_id).as_sts()

    def stack_changes(self) -> Changes | None:
        return self.cloudformation.changes if self.cloudformation is not None else None

    def deployer_credential(self, account: str) -> Credential:
        """The account's deployer session (administrator, 12 hours), e.g. for a profile."""
        return self._deployers[self.account_id(account)]

    def root_credential(self, account: str) -> Credential:
        """The account root's long-term key."""
        return self._roots[self.account_id(account)]

    def _service_credentials(
        self, role_arn: str, service: str, session_name: str | None
    ) -> Mapping[str, Any]:
        return self.assume_as_service(role_arn, service, session_name).as_sts()

    def _forward_credentials(self, caller: Mapping[str, Any], service: str) -> Mapping[str, Any]:
        return self.forward_access(caller, service).as_sts()

    def forward_access(self, caller: Mapping[str, Any], service: str) -> Credential:
        """A forward access session for ``service`` with ``caller``'s credentials (STS's
        shape), issued only if this target issued them."""
        issued = self.store.lookup(str(caller.get("AccessKeyId", "")))
        if (
            issued is None
            or not secrets.compare_digest(
                issued.secret_access_key, caller.get("SecretAccessKey", "")
            )
            or issued.session_token != caller.get("SessionToken")
        ):
            raise ValueError("the session's credentials were not issued by this local target")
        return self.store.issue_forward_access(issued, service)

    def assume_as_service(
        self, role_arn: str, service: str, session_name: str | None = None
    ) -> Credential:
        decision, credential = self._started_gateway().assume_role_as_service(
            service, role_arn, session_name or service.split(".", 1)[0]
        )
        if credential is None:
            raise ServiceRoleDenied(decision.reason)
        return credential

    def _started_gateway(self) -> Gateway:
        if self.gateway is None:
            raise RuntimeError("the local target is not started")
        return self.gateway

    # runtimes: SageMaker, Step Functions, Lambda ------------------------------------------
    def _start_runtimes(self, backend: Any) -> LocalRuntimes:
        """The services that run training jobs, endpoints, executions and functions; their
        roles are assumed by the service principals and they call back through HTTPS."""
        return LocalRuntimes(
            ServiceContext(
                self.session_as_service,
                lambda: self.endpoint_url,
                lambda: str(self.ca_bundle),
                backend,
                self._fault,
            )
        )

    # CloudFormation wiring -----------------------------------------------------------------
    def _account_of_key(self, access_key_id: str | None) -> str:
        credential = self.store.lookup(access_key_id or "")
        if credential is None:  # the gateway refuses unknown keys before this is reached
            raise ValidationError("The security token included in the request is invalid.")
        return credential.account_id

    def _stack_clients(self, caller: Caller, role_arn: str | None) -> ClientFactory:
        """Clients for the engine's resource providers: as the stack's service role (assumed
        by cloudformation.amazonaws.com, so its trust policy is honoured) or as the caller."""
        if role_arn is not None:
            try:
                credential = self.assume_as_service(role_arn, "cloudformation.amazonaws.com")
            except ServiceRoleDenied as denied:
                raise ValidationError(
                    f"Role {role_arn} is invalid or cannot be assumed: {denied}"
                ) from denied
        else:
            found = self.store.lookup(caller.access_key_id or "")
            if found is None:
                raise ValidationError("The security token included in the request is invalid.")
            credential = found
        session = session_from(credential.as_sts(), caller.region)
        cache: dict[str, BaseClient] = {}
        lock = threading.Lock()

        def client(service: str) -> BaseClient:
            with lock:
                if service not in cache:
                    cache[service] = session.client(
                        service, region_name=caller.region, **self.client_settings(service)
                    )
                return cache[service]

        return client
