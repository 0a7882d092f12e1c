"""The credentials the local target issues, and the principals they stand for.

The gateway authenticates every request against this store, so a key it never issued (or one
that expired) is rejected exactly as AWS would reject it, before any policy is consulted.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from enum import StrEnum

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_ARN = re.compile(r"^arn:(?P<partition>[^:]+):(?:iam|sts)::(?P<account>\d{12}):(?P<rest>.+)$")
DEFAULT_SESSION_DURATION = datetime.timedelta(hours=1)


class PrincipalType(StrEnum):
    """Values of ``aws:PrincipalType`` for the principals this store issues keys to."""

    ACCOUNT = "Account"
    USER = "User"
    ASSUMED_ROLE = "AssumedRole"


@dataclass(frozen=True)
class Credential:
    """One issued access key and the identity it authenticates.

    ``arn`` is what ``GetCallerIdentity`` and AWS's error messages show (for a role session the
    ``assumed-role`` ARN); ``principal_arn`` is what policies see as ``aws:PrincipalArn`` (for a
    role session the role's own ARN, path included). ``called_via`` names the AWS services
    (``sagemaker.amazonaws.com``), first to last, calling with this principal's credentials in
    a forward access session; empty when the principal calls itself.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(repr=False)
    arn: str
    principal_arn: str
    principal_type: PrincipalType
    account_id: str
    expiration: datetime.datetime | None = None
    issued_at: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC)
    )
    called_via: tuple[str, ...] = ()
    # A role session's principal tags (its role's tags, overridden by session tags), which
    # of them are transitive, the session policies it was made with (name, document), and
    # its source identity.
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: frozenset[str] = frozenset()
    session_policies: tuple[tuple[str, str], ...] = ()
    source_identity: str | None = None

    def as_sts(self) -> dict[str, str]:
        """The key in the shape STS answers with, as boto3 sessions take it."""
        shape = {"AccessKeyId": self.access_key_id, "SecretAccessKey": self.secret_access_key}
        return shape | ({"SessionToken": self.session_token} if self.session_token else {})

    @property
    def via_service(self) -> str | None:
        """The service calling on the principal's behalf (the last of ``called_via``)."""
        return self.called_via[-1] if self.called_via else None

    @property
    def is_temporary(self) -> bool:
        return self.session_token is not None

    def is_expired(self, now: datetime.datetime) -> bool:
        return self.expiration is not None and now >= self.expiration


def _new_key_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def _parse_identity_arn(arn: str) -> tuple[str, str, str]:
    """Split an IAM/STS ARN into (partition, account id, resource part) or raise ValueError."""
    match = _ARN.match(arn)
    if match is None:
        raise ValueError(f"not an IAM or STS principal ARN: {arn!r}")
    return match["partition"], match["account"], match["rest"]


class CredentialStore:
    """Thread-safe map of access key id -> :class:`Credential`.

    Long-term keys (``AKIA…``) go to bootstrap principals: an account root or an IAM user.
    Temporary keys (``ASIA…`` + session token) go to role sessions created by AssumeRole.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, Credential] = {}

    def __repr__(self) -> str:
        with self._lock:
            return f"CredentialStore({len(self._by_key)} credentials)"

    def _add(self, credential: Credential) -> Credential:
        with self._lock:
            if credential.access_key_id in self._by_key:
                raise ValueError(f"access key {credential.access_key_id} is already issued")
            self._by_key[credential.access_key_id] = credential
        return credential

    def issue_long_term(
        self,
        principal_arn: str,
        *,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> Credential:
        """Issue a long-term key for an account root (``…:root``) or an IAM user.

        A caller may choose the key id and secret (e.g. to honour fixed test credentials).
        """
        _, account_id, rest = _parse_identity_arn(principal_arn)
        if rest == "root":
            principal_type = PrincipalType.ACCOUNT
        elif rest.startswith("user/"):
            principal_type = PrincipalType.USER
        else:
            raise ValueError(f"long-term keys belong to a root or a user, not {principal_arn!r}")
        return self._add(
            Credential(
                access_key_id=access_key_id or _new_key_id("AKIA"),
                secret_access_key=secret_access_key or secrets.token_urlsafe(30),
                session_token=None,
                arn=principal_arn,
                principal_arn=principal_arn,
                principal_type=principal_type,
                account_id=account_id,
            )
        )

    def issue_role_session(
        self,
        role_arn: str,
        session_name: str,
        *,
        duration: datetime.timedelta = DEFAULT_SESSION_DURATION,
        now: datetime.datetime | None = None,
        tags: tuple[tuple[str, str], ...] = (),
        transitive_tag_keys: frozenset[str] = frozenset(),
        session_policies: tuple[tuple[str, str], ...] = (),
        source_identity: str | None = None,
    ) -> Credential:
        """Issue temporary credentials for an AssumeRole session of ``role_arn``.

        The session ARN drops the role's path, as STS does:
        ``arn:aws:iam::111122223333:role/service-role/R`` ->
        ``arn:aws:sts::111122223333:assumed-role/R/<session>``.
        """
        partition, account_id, rest = _parse_identity_arn(role_arn)
        if not rest.startswith("role/"):
            raise ValueError(f"not a role ARN: {role_arn!r}")
        role_name = rest.rsplit("/", 1)[1]
        issued = now or datetime.datetime.now(datetime.UTC)
        return self._add(
            Credential(
                access_key_id=_new_key_id("ASIA"),
                secret_access_key=secrets.token_urlsafe(30),
                session_token=secrets.token_urlsafe(96),
                arn=f"arn:{partition}:sts::{account_id}:assumed-role/{role_name}/{session_name}",
                principal_arn=role_arn,
                principal_type=PrincipalType.ASSUMED_ROLE,
                account_id=account_id,
                expiration=issued + duration,
                issued_at=issued,
                tags=tags,
                transitive_tag_keys=transitive_tag_keys,
                session_policies=session_policies,
                source_identity=source_identity,
            )
        )

    def issue_forward_access(self, credential: Credential, service: str) -> Credential:
        """Issue the credentials AWS service ``service`` (``sagemaker.amazonaws.com``) uses to
        call on behalf of ``credential``'s principal (a forward access session, as when
        SageMaker creates a KMS grant for a training job): the same principal, with
        ``aws:ViaAWSService`` and ``aws:CalledVia`` naming the service."""
        return self._add(
            dataclasses.replace(
                credential,
                access_key_id=_new_key_id("ASIA"),
                secret_access_key=secrets.token_urlsafe(30),
                session_token=secrets.token_urlsafe(96),
                called_via=(*credential.called_via, service),
            )
        )

    def lookup(self, access_key_id: str) -> Credential | None:
        with self._lock:
            return self._by_key.get(access_key_id)

    def revoke(self, access_key_id: str) -> None:
        with self._lock:
            self._by_key.pop(access_key_id, None)
