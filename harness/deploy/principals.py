"""Sessions for the principals the checks act as, obtained the way each really gets its
credentials: a role trusted by an AWS service is assumed as that service, a role trusted by
another role is assumed from that role's session, a canary from the account's deployer.

Acting as a service principal or as an account root is something only some targets can do
(the embedded one can; real AWS cannot), so those are optional capabilities of a target,
declared by having the method; a principal the target cannot act as is :class:`Unavailable`
with the reason, and the check that needs it is skipped, never passed. A role that should exist
and does not is :class:`Missing`: a failure of the deployment, never a skip.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.targets import Target
from harness.targets.sessions import session_from


@runtime_checkable
class ServiceSessions(Protocol):
    """A target that can act as an AWS service principal assuming a role (trust honoured)."""

    def session_as_service(
        self, role_arn: str, service: str, session_name: str | None = None
    ) -> boto3.Session: ...


@runtime_checkable
class RootSessions(Protocol):
    """A target that can act as an account's root user."""

    def root_session(self, account: str) -> boto3.Session: ...


@runtime_checkable
class InsecureClients(Protocol):
    """A target that serves plain HTTP, so requests without TLS can be made."""

    def insecure_client(self, service: str, session: boto3.Session) -> BaseClient: ...


class Unavailable(Exception):
    """The target cannot act as this principal; the message says why."""


class Missing(Exception):
    """The principal's role does not exist: the deployment did not make it."""


@runtime_checkable
class ServiceCalls(Protocol):
    """A target on which an AWS service can call on a principal's behalf with the
    principal's own credentials (a forward access session: ``aws:ViaAWSService``)."""

    def session_via_service(self, session: boto3.Session, service: str) -> boto3.Session: ...


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


class PrincipalSessions:
    """Sessions by principal ARN, cached for the run; see the module docstring."""

    def __init__(self, target: Target, deployer_arns: dict[str, str]) -> None:
        self.target = target
        self._deployers = {arn: account for account, arn in deployer_arns.items()}
        self._cache: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str, str | None, bool], BaseClient] = {}
        self._lock = threading.RLock()

    def session(self, arn: str) -> boto3.Session:
        with self._lock:
            if arn not in self._cache:
                self._cache[arn] = self._obtain(arn, ())
            return self._cache[arn]

    def client(
        self, arn: str, service: str, via: str | None = None, plain_http: bool = False
    ) -> BaseClient:
        """A client as ``arn``, made once per run (creating boto3 clients is slow): through
        AWS service ``via`` on the principal's behalf, or over plain HTTP, where the target
        can do that (:class:`Unavailable` otherwise)."""
        key = (arn, service, via, plain_http)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._new_client(arn, service, via, plain_http)
            return self._clients[key]

    def _new_client(self, arn: str, service: str, via: str | None, plain_http: bool) -> BaseClient:
        session = self.session(arn)
        if via is not None:
            if not isinstance(self.target, ServiceCalls):
                raise Unavailable(
                    f"target {self.target.name} cannot make a call as {via} on a principal's "
                    "behalf (forward access session)"
                )
            session = self.target.session_via_service(session, via)
        if plain_http:
            if not isinstance(self.target, InsecureClients):
                raise Unavailable(f"target {self.target.name} offers no plain-HTTP endpoint")
            return self.target.insecure_client(service, session)
        return self.target.client(service, session)

    def _account(self, arn: str) -> str:
        account_id = arn.split(":")[4]
        if account_id not in self.target.accounts.values():
            raise Unavailable(f"account {account_id} of {arn} is not an account of this target")
        return account_id

    def _obtain(self, arn: str, chain: tuple[str, ...]) -> boto3.Session:
        if arn in self._cache:
            return self._cache[arn]
        if arn in chain:
            raise Unavailable(f"{arn} is only reachable through a trust cycle: {chain}")
        account_id = self._account(arn)
        if arn.endswith(":root"):
            if not isinstance(self.target, RootSessions):
                raise Unavailable(f"target {self.target.name} cannot act as an account root")
            return self.target.root_session(account_id)
        if arn in self._deployers:
            return self.target.session(self._deployers[arn])
        name = arn.split(":role/", 1)[1].rsplit("/", 1)[-1]
        iam = self.target.client("iam", self.target.session(account_id))
        try:
            trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchEntity":
                raise Missing(
                    f"role {arn} does not exist: the deployment did not make it"
                ) from error
            raise
        reasons = []
        for statement in trust.get("Statement", []):
            if statement.get("Effect") != "Allow":
                continue
            principal = statement.get("Principal", {})
            for service in _as_list(principal.get("Service")):
                if isinstance(self.target, ServiceSessions):
                    return self.target.session_as_service(arn, service)
                reasons.append(f"target {self.target.name} cannot act as {service}")
            for trusted in _as_list(principal.get("AWS")):
                if trusted in self._deployers:
                    return self.target.session(self._deployers[trusted], arn, "harness-check")
                if ":role/" in trusted:
                    try:
                        via = self._obtain(trusted, (*chain, arn))
                    except Unavailable as unavailable:
                        reasons.append(str(unavailable))
                        continue
                    return _assume(self.target, via, arn)
                reasons.append(f"trusted principal {trusted} is not one the harness acts as")
        raise Unavailable(f"no way to obtain {arn}: " + ("; ".join(reasons) or "no trust"))


def _assume(target: Target, via: boto3.Session, arn: str) -> boto3.Session:
    credentials = target.client("sts", via).assume_role(
        RoleArn=arn, RoleSessionName="harness-check"
    )["Credentials"]
    return session_from(credentials, target.region)
