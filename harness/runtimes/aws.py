"""The one way a runtime reaches AWS: a role's boto3 session plus the target's endpoint.

The caller (the local target) issues the role's credentials and decides where requests go
(the enforcement gateway, its CA bundle); runtimes never build credentials of their own.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError

# A denial is an answer, not a transient fault: retrying it only slows failures down.
_CLIENT_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"})


@dataclass(frozen=True)
class AwsAccess:
    """A role's session and where its requests go (endpoint URL and TLS verification)."""

    session: boto3.Session
    endpoint_url: str | None = None
    verify: str | bool | None = None  # a CA bundle path, False, or None for botocore's default

    @property
    def region(self) -> str:
        region = self.session.region_name
        if not region:
            raise ValueError("the role's session has no region")
        return region

    def client(self, service: str) -> BaseClient:
        return self.session.client(
            service, endpoint_url=self.endpoint_url, verify=self.verify, config=_CLIENT_CONFIG
        )

    def credentials(self) -> ReadOnlyCredentials:
        credentials = self.session.get_credentials()
        if credentials is None:
            raise ValueError("the role's session has no credentials")
        return credentials.get_frozen_credentials()


def describe_error(exc: BaseException) -> str:
    """An error as SageMaker and Lambda report it: `ClientError: An error occurred (...)`.

    botocore raises modeled errors as generated subclasses (`AccessDenied`); the services name
    them all ClientError."""
    kind = "ClientError" if isinstance(exc, ClientError) else type(exc).__name__
    return f"{kind}: {exc}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); ValueError for anything else."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket")
    return bucket, key


def download_object(s3: BaseClient, bucket: str, key: str, destination: Path) -> None:
    """GetObject into a file. Unlike `download_file` (HeadObject first), a denial surfaces as
    GetObject's AccessDenied with its message, the error SageMaker reports."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    with destination.open("wb") as file:
        shutil.copyfileobj(body, file)
