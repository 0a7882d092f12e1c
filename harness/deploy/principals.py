"""Sessions for the principals the checks act as, obtained the way each really gets its
credentials: a role trusted by an AWS service is assumed as that service, a role trusted by
another role is assumed from that role's session, a canary from the account's deployer.

Acting as a service principal or as an account root is something only some targets can do
(the embedded one can; real AWS cannot), so those are optional capabilities of a target,
declared by having the method; a principal the target cannot act as is :class:`Unavailable`
with the reason, and the check that needs it is skipped, never passed.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.targets import Target


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
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self._lock = threading.RLock()

    def session(self, arn: str) -> boto3.Session:
        with self._lock:
            if arn not in self._cache:
                self._cache[arn] = self._obtain(arn, ())
            return self._cache[arn]

    def client(self, arn: str, service: str) -> BaseClient:
        """A client as ``arn``, made once per run (creating boto3 clients is slow)."""
        with self._lock:
            if (arn, service) not in self._clients:
                self._clients[arn, service] = self.target.client(service, self.session(arn))
            return self._clients[arn, service]

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
        name = arn.split(":role/", 1)[1].rsplit("/", 1)[-1]
        iam = self.target.client("iam", self.target.session(account_id))
        try:
            trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        except ClientError as error:
            raise Unavailable(f"cannot read role {arn}: {error}") from error
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
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=target.region,
    )
