"""The prober's prefetch: as-deployed requests start beside what the suite does meanwhile (it
follows the pipeline there); the resource-side batches, which change identity policies, wait
for it; if it fails, requests not yet begun are dropped."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness.evidence import Explanation, Intent, Source
from harness.probes import prober as prober_module
from harness.probes.calls import Attempt, Call
from harness.probes.cells import Cell
from harness.probes.prober import Identity, Observation, Prober

ROLE = "arn:aws:iam::111111111111:role/mlops-pipeline"


class _Target:
    name = "fake"
    policy_propagation_seconds = 0.0


class _Principals:
    def session(self, arn: str) -> object:
        return object()


def _cells(count: int) -> list[Cell]:
    def call(n: int) -> Call:
        intent = Intent(ROLE, "kms:Decrypt", f"key-{n}")
        return Call(f"request {n}", ROLE, "kms", lambda _client: None, intent)

    return [
        Cell(f"cell-{n}", 2, "key", "pipeline", f"c{n}", call(n), False, resource_side=True)
        for n in range(count)
    ]


class _Recorder:
    """Stands in for the prober's requests: records each as it begins."""

    def __init__(self, pause_s: float = 0.0) -> None:
        self.made: list[tuple[str, Identity]] = []
        self.first = threading.Event()
        self.pause_s = pause_s
        self._lock = threading.Lock()

    def capture(self, call: Call, identity: Identity) -> Observation:
        with self._lock:
            self.made.append((call.label, identity))
        self.first.set()
        time.sleep(self.pause_s)
        return Observation(
            call, identity, Attempt(True, "", None), Explanation(Source.DECISION_LOG, None, ())
        )


@pytest.fixture
def attached(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Roles the admin-like policy was attached to, in order (no target is called)."""
    roles: list[str] = []

    @contextmanager
    def admin_like(_target: Any, role: str) -> Iterator[None]:
        roles.append(role)
        yield

    monkeypatch.setattr(prober_module, "admin_like", admin_like)
    return roles


def _prober(cells: list[Cell], recorder: _Recorder) -> Prober:
    prober = Prober(_Target(), _Principals(), cells)  # type: ignore[arg-type]
    prober._capture = recorder.capture  # type: ignore[method-assign]
    return prober


def test_as_deployed_requests_run_beside_meanwhile_and_resource_side_after_it(attached):
    cells = _cells(20)
    recorder = _Recorder()
    seen_during: list[tuple[str, Identity]] = []

    def meanwhile() -> None:
        assert recorder.first.wait(10), "no request began while the pipeline ran"
        seen_during.extend(recorder.made)

    _prober(cells, recorder).prefetch(cells, meanwhile=meanwhile)
    assert seen_during and all(i is Identity.AS_DEPLOYED for _, i in seen_during)
    as_deployed = [label for label, i in recorder.made if i is Identity.AS_DEPLOYED]
    resource_side = [label for label, i in recorder.made if i is Identity.ADMIN_LIKE]
    assert sorted(as_deployed) == sorted(resource_side) == sorted(c.call.label for c in cells)
    assert attached == [ROLE]


def test_a_failing_meanwhile_drops_the_requests_not_begun(attached):
    cells = _cells(200)
    recorder = _Recorder(pause_s=0.002)

    def meanwhile() -> None:
        recorder.first.wait(10)
        raise RuntimeError("the pipeline failed")

    with pytest.raises(RuntimeError, match="the pipeline failed"):
        _prober(cells, recorder).prefetch(cells, meanwhile=meanwhile)
    assert 0 < len(recorder.made) < len(cells) // 2
    assert all(identity is Identity.AS_DEPLOYED for _, identity in recorder.made)
    assert attached == []


def test_a_request_that_breaks_ends_the_prefetch_without_the_requests_not_begun(attached):
    cells = _cells(200)
    recorder = _Recorder(pause_s=0.002)
    capture, counted = recorder.capture, itertools.count()

    def the_fifth_breaks(call: Call, identity: Identity) -> Observation:
        if next(counted) == 4:
            raise RuntimeError("NoSuchBucket: not a refusal")
        return capture(call, identity)

    prober = _prober(cells, recorder)
    prober._capture = the_fifth_breaks  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="NoSuchBucket"):
        prober.prefetch(cells)
    assert 4 <= len(recorder.made) < len(cells) // 2
    assert attached == []
