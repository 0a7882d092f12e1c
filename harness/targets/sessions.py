"""Every boto3 session the harness makes shares one botocore data loader.

A client of a fresh session loads its service model, endpoint rules and partitions from disk
again (about a quarter of a second a client; the suite acts as dozens of principals); the loader
caches what it loaded, so sharing it makes a client about ten times cheaper. Credentials,
profiles and their refresh stay each session's own.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import boto3
import botocore.session
from botocore.loaders import Loader


@functools.cache
def _loader() -> Loader:
    return botocore.session.get_session().get_component("data_loader")


def new_session(**kwargs: Any) -> boto3.Session:
    """``boto3.Session(**kwargs)`` on a botocore session with the shared loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _loader())
    return boto3.Session(botocore_session=core, **kwargs)


def session_from(credentials: Mapping[str, Any], region: str | None) -> boto3.Session:
    """A session for temporary credentials as STS returns them."""
    return new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
        region_name=region,
    )
