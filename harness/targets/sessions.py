"""Every boto3 session the harness makes shares one botocore data loader and starts from one
set of botocore's built-in event handlers.

A client of a fresh session loads its service model, endpoint rules and partitions from disk
again (about a quarter of a second a client; the suite acts as dozens of principals); the loader
caches what it loaded, so sharing it makes a client about ten times cheaper. A fresh session
also registers botocore's two hundred built-in handlers one by one, checking each one's
signature (some 8 ms a session, a hundred sessions a run); a copy of a set registered once
holds the same handlers, as every client's copy of its session's handlers does. Credentials,
profiles and their refresh stay each session's own.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

import boto3
import botocore.session
from botocore.hooks import HierarchicalEmitter
from botocore.loaders import Loader


@functools.cache
def _shared() -> tuple[HierarchicalEmitter, Loader]:
    """botocore's built-in handlers, registered once, and the loader every session shares."""
    handlers = HierarchicalEmitter()
    core = botocore.session.Session(event_hooks=handlers)
    return handlers, core.get_component("data_loader")


def new_session(**kwargs: Any) -> boto3.Session:
    """``boto3.Session(**kwargs)`` on a botocore session with the shared loader and its own
    copy of the built-in handlers."""
    handlers, loader = _shared()
    core = botocore.session.Session(event_hooks=copy.copy(handlers), include_builtin_handlers=False)
    core.register_component("data_loader", loader)
    return boto3.Session(botocore_session=core, **kwargs)


def session_from(credentials: Mapping[str, Any], region: str | None) -> boto3.Session:
    """A session for temporary credentials as STS returns them."""
    return new_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
        region_name=region,
    )
