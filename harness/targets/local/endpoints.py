"""What the suite needs of a ``local`` target, reached through its endpoints alone.

The embedded target (:class:`~harness.targets.local.LocalTarget`) and one attached to a
``harness serve`` process (:class:`~harness.targets.local.attached.AttachedLocalTarget`) give
the same sessions and clients from the credentials the serving target issued; only where those
credentials, the CA and the decision log come from differs. One class serves both, so a check
run against ``harness serve`` takes exactly the code path of ``harness run``.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.client import BaseClient
from botocore.config import Config

from harness.targets.base import Capability, Target
from harness.targets.sessions import session_from

_CLIENT_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"},
    s3={"addressing_style": "path"},
    connect_timeout=5,
    read_timeout=60,
)
# Presigned S3 URLs would otherwise use SigV2 against a custom endpoint; AWS and the gateway
# accept only SigV4.
_S3_CONFIG = _CLIENT_CONFIG.merge(Config(signature_version="s3v4"))


def client_config(service: str) -> Config:
    return _S3_CONFIG if service == "s3" else _CLIENT_CONFIG


class LocalEndpoints(Target):
    """Sessions and clients on a local target's HTTPS and HTTP listeners."""

    name = "local"
    stack_poll_seconds = 0.1
    stack_timeout_seconds = 300.0
    capabilities = frozenset(
        {
            Capability.ENFORCES_BUCKET_POLICY,
            Capability.ENFORCES_KEY_POLICY,
            Capability.ENFORCES_TRUST_POLICY,
            Capability.ENFORCES_IDENTITY_POLICY,
            Capability.ENFORCES_TLS_CONDITION,
            Capability.APPLIES_TEMPLATE_SETTINGS,
            Capability.RUNS_TRAINING,
            Capability.HOSTS_ENDPOINTS,
            Capability.RUNS_LAMBDA,
            Capability.RUNS_PIPELINE,
            Capability.SIMULATES_POLICIES,
        }
    )

    def __init__(self) -> None:
        self._deployer_sessions: dict[str, boto3.Session] = {}
        self._sessions_lock = threading.Lock()

    # where the target answers ------------------------------------------------------------
    @property
    @abstractmethod
    def endpoint_url(self) -> str:
        """The HTTPS listener (clients trust ``ca_bundle``)."""

    @property
    @abstractmethod
    def http_endpoint_url(self) -> str:
        """The plain HTTP listener: requests there have ``aws:SecureTransport`` false."""

    @property
    @abstractmethod
    def ca_bundle(self) -> Path: ...

    # the credentials the serving target issued --------------------------------------------
    @abstractmethod
    def _deployer(self, account_id: str) -> Mapping[str, Any]:
        """The account's deployer session's credentials, in STS's shape."""

    @abstractmethod
    def _root(self, account_id: str) -> Mapping[str, Any]:
        """The account root's long-term key, in STS's shape."""

    @abstractmethod
    def _service_credentials(
        self, role_arn: str, service: str, session_name: str | None
    ) -> Mapping[str, Any]:
        """Credentials for ``role_arn`` as AWS service ``service`` obtains them (trust
        honoured); raises :class:`ServiceRoleDenied` with the decision's reason."""

    @abstractmethod
    def _forward_credentials(self, caller: Mapping[str, Any], service: str) -> Mapping[str, Any]:
        """A forward access session for ``service`` calling with ``caller``'s credentials;
        raises ``ValueError`` if the serving target did not issue them."""

    # clients -------------------------------------------------------------------------------
    def _new_client(
        self, service: str, session: boto3.Session, settings: Mapping[str, Any]
    ) -> BaseClient:
        client = super()._new_client(service, session, settings)
        if service == "s3control":
            client.meta.events.register("before-sign.s3-control", _on_own_host)
        return client

    def client_settings(self, service: str) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "verify": str(self.ca_bundle),
            "config": client_config(service),
        }

    def insecure_client(self, service: str, session: boto3.Session) -> BaseClient:
        """A client on the plain HTTP listener, to prove requests without TLS are refused."""
        return session.client(
            service,
            region_name=self.region,
            endpoint_url=self.http_endpoint_url,
            config=client_config(service),
        )

    # sessions ------------------------------------------------------------------------------
    def session(
        self, account: str, role_arn: str | None = None, session_name: str = "harness"
    ) -> boto3.Session:
        deployer = self._deployer_session(self.account_id(account))
        if role_arn is None:
            return deployer
        sts = self.client("sts", deployer)
        response = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)
        return session_from(response["Credentials"], self.region)

    def _deployer_session(self, account_id: str) -> boto3.Session:
        """The account's deployer session, made once per credential: a botocore session costs
        some 10 ms of handler registration, and checks ask for the deployer a hundred times."""
        credentials = self._deployer(account_id)
        with self._sessions_lock:
            session = self._deployer_sessions.get(credentials["AccessKeyId"])
            if session is None:
                session = session_from(credentials, self.region)
                self._deployer_sessions[credentials["AccessKeyId"]] = session
            return session

    def root_session(self, account: str) -> boto3.Session:
        """A session as the account's root user (long-term key, no identity policies)."""
        return session_from(self._root(self.account_id(account)), self.region)

    def session_as_service(
        self, role_arn: str, service: str, session_name: str | None = None
    ) -> boto3.Session:
        """A session for ``role_arn`` as AWS service ``service`` (e.g.
        ``codepipeline.amazonaws.com``) obtains it: only if the role's trust policy allows
        that service principal, with ``aws:SourceAccount`` set to the role's account."""
        credentials = self._service_credentials(role_arn, service, session_name)
        return session_from(credentials, self.region)

    def session_via_service(self, session: boto3.Session, service: str) -> boto3.Session:
        """A session for AWS service ``service`` (``sagemaker.amazonaws.com``) calling on behalf
        of ``session``'s principal with its credentials (a forward access session): the same
        principal, with ``aws:ViaAWSService``, ``aws:CalledVia`` and ``kms:ViaService`` set."""
        found = session.get_credentials()
        if found is None:
            raise ValueError("the session has no credentials")
        frozen = found.get_frozen_credentials()
        caller = {
            "AccessKeyId": frozen.access_key,
            "SecretAccessKey": frozen.secret_key,
            "SessionToken": frozen.token,
        }
        return session_from(self._forward_credentials(caller, service), self.region)


def _on_own_host(request: Any, **_: Any) -> None:
    """S3 Control puts the account id before the endpoint's host (``<id>.s3-control…``); the
    target's host is an address, so the request goes to it as it is (the id is also in the
    ``x-amz-account-id`` header, where the gateway reads it)."""
    parts = urlsplit(request.url)
    account, _, host = parts.netloc.partition(".")
    if account.isdigit() and len(account) == 12:
        request.url = urlunsplit(parts._replace(netloc=host))


class ServiceRoleDenied(PermissionError):
    """An AWS service principal may not assume the role; the message is the decision's reason."""
