"""On a botocore line the shared parts of harness/targets/sessions.py are not written against,
its sessions are botocore's own and their clients work (botocore 1.40, which our requirement
admits, broke every client of the shared parts)."""

from __future__ import annotations

from collections.abc import Iterator

import botocore
import botocore.session
import pytest

from harness.targets import sessions


@pytest.fixture
def another_line(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    sessions._shared.cache_clear()
    monkeypatch.setattr(botocore, "__version__", "1.40.0")
    yield
    sessions._shared.cache_clear()  # after the version is restored: the next call fits again


def test_another_botocore_line_gets_botocores_own_sessions(another_line: None) -> None:
    session = sessions.new_session(aws_access_key_id="a", aws_secret_access_key="b")
    core = session._session
    assert type(core) is botocore.session.Session
    assert type(core.get_component("event_emitter")._emitter) is botocore.hooks.HierarchicalEmitter
    client = session.client("s3", region_name="eu-west-1", endpoint_url="https://127.0.0.1:1")
    assert client.meta.endpoint_url == "https://127.0.0.1:1" and hasattr(client, "upload_file")
