"""The local target standing in for AWS, and AWS profiles that point at it.

The aws target gets the local target only as profiles (credentials file, endpoint and CA in
the config file), the way a user's ~/.aws would give it real accounts: the code path is the
one a real run takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.targets.aws.settings import AccountAccess

if TYPE_CHECKING:
    from harness.targets.local import LocalTarget


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    # Imported here: `tox -e localstack` runs this folder's LocalStack test with LocalStack's
    # own moto build, which the local target's listener does not support.
    from harness.targets.local import LocalTarget

    with LocalTarget(workdir=tmp_path_factory.mktemp("stand-in")) as local:
        yield local


@contextmanager
def profiles_of(stand_in: LocalTarget, directory: Path) -> Iterator[dict[str, AccountAccess]]:
    """One profile per account in AWS's own config and credentials files, selected by the
    environment while the context lasts."""
    config, credentials = [], []
    for role in stand_in.accounts:
        keys = stand_in.session(role).get_credentials().get_frozen_credentials()
        config += [
            f"[profile {role}]",
            f"region = {stand_in.region}",
            f"endpoint_url = {stand_in.endpoint_url}",
            f"ca_bundle = {stand_in.ca_bundle}",
        ]
        credentials += [
            f"[{role}]",
            f"aws_access_key_id = {keys.access_key}",
            f"aws_secret_access_key = {keys.secret_key}",
            f"aws_session_token = {keys.token}",
        ]
    (directory / "config").write_text("\n".join(config) + "\n")
    (directory / "credentials").write_text("\n".join(credentials) + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_CA_BUNDLE", raising=False)  # it would win over the profile's CA
        patch.setenv("AWS_CONFIG_FILE", str(directory / "config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(directory / "credentials"))
        yield {role: AccountAccess(profile=role) for role in stand_in.accounts}


@pytest.fixture
def profiles(stand_in: LocalTarget, tmp_path: Path) -> Iterator[dict[str, AccountAccess]]:
    with profiles_of(stand_in, tmp_path) as access:
        yield access
