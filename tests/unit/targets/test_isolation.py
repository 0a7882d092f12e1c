"""Two local targets in one process do not see each other's moto patch, stop() undoes it, and
a stuck worker does not hold stop() past its bound."""

from __future__ import annotations

import threading
import time

import pytest
from moto.core import responses as moto_responses
from moto.kms import models as moto_kms_models
from moto.s3.models import FakeBucket

from harness.targets.local import LocalTarget
from harness.targets.local.moto_state import GatewayAuthorized

ROLES = ("shared-services", "training", "production")
FIRST = {role: f"41000000000{n}" for n, role in enumerate(ROLES, 1)}
SECOND = {role: f"42000000000{n}" for n, role in enumerate(ROLES, 1)}


def test_moto_is_patched_only_while_a_target_runs_and_each_target_has_its_own_adapter() -> None:
    own, own_listing = FakeBucket.get_permission, moto_responses.method_names_from_class
    own_keys = moto_kms_models.generate_private_key
    first, second = LocalTarget(FIRST), LocalTarget(SECOND)
    first.start()
    try:
        patched = FakeBucket.get_permission
        assert patched is not own
        assert moto_responses.method_names_from_class is not own_listing
        assert moto_kms_models.generate_private_key is not own_keys
        second.start()
        assert first._moto is not second._moto
        first.stop()  # the second still needs the gateway's authorization
        assert first._moto is None
        assert FakeBucket.get_permission is patched
        assert second._moto is not None and second._moto.is_open
        bucket = second.client("s3", second.session("training"))
        bucket.create_bucket(Bucket="isolation-check")
        assert bucket.list_objects_v2(Bucket="isolation-check")["KeyCount"] == 0
    finally:
        first.stop()
        second.stop()
    # nothing left patched in the process
    assert FakeBucket.get_permission is own
    assert moto_responses.method_names_from_class is own_listing
    assert moto_kms_models.generate_private_key is own_keys


def test_a_closed_adapter_no_longer_lets_requests_skip_moto_s_check() -> None:
    adapter = GatewayAuthorized(lambda environ, start: [b""])
    try:
        with adapter.authorizing():
            assert adapter.is_open
    finally:
        adapter.close()
    assert not adapter.is_open


def test_stop_returns_within_its_bound_naming_a_stuck_stack_operation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HARNESS_BOUND_STOP", "0.3")
    release = threading.Event()
    target = LocalTarget(FIRST)
    target.start()
    assert target.cloudformation is not None
    target.cloudformation._workers.start("app (CREATE_IN_PROGRESS)", release.wait)
    began = time.monotonic()
    try:
        target.stop()
    finally:
        release.set()
    assert time.monotonic() - began < 3.0
    assert target.stuck_workers == ["stack operation app (CREATE_IN_PROGRESS)"]
    assert "still running: stack operation app (CREATE_IN_PROGRESS)" in capsys.readouterr().err
