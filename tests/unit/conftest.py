"""Unit tests run offline: fake credentials, no profile, and no socket beyond loopback.

botocore would otherwise pick up a developer's real credentials or profile, and a test that
forgot its mock could reach real AWS. The socket guard turns that mistake into an error.
"""

from __future__ import annotations

import gc
import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

# XGBoost in this process (the training-data test, endpoints, boosters the tests load) runs
# one OpenMP thread, as the training executor gives its containers: xdist runs a worker per
# core (and one more), and threads spinning against each other's made a 0.5 s training take
# 7 s of CPU.
# Set before any test module imports xgboost, which reads it once.
os.environ.setdefault("OMP_NUM_THREADS", "1")

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths are local by definition
        return True
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    real_connect = socket.socket.connect

    def guarded_connect(sock: socket.socket, address: object) -> object:
        if not _is_loopback(address):
            raise RuntimeError(f"unit tests must stay offline; refused connection to {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield


_settled: list[str] = [""]  # the module whose first test settled the heap


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """A module's first test starts with the garbage of the modules before collected and
    what survives frozen (kept out of later collections), the module's own fixtures
    included. A worker holds a million objects once boto3's and moto's models are loaded,
    nearly all alive until it exits; without this every automatic full collection scanned
    them all again (20 s of each worker's 50). Frozen after its fixtures rather than before
    them, a module's local target and stacks are not scanned again by each of its tests'
    collections either (~1 s of CPU a worker). Garbage is still collected: what a module
    leaves behind, at the next module's first test (but for cycles its module fixtures made,
    which stay frozen: a worker's peak memory did not grow)."""
    module = item.nodeid.split("::", 1)[0]
    if _settled[0] != module:
        _settled[0] = module
        gc.collect()
        gc.freeze()


# Files proving the same templates: on one worker, what one proved and kept in
# harness.prove.proofs.RESULTS serves the others, where each worker would prove it again
# (~5 s of CPU a file).
ONE_WORKER = ("tests/unit/proof/test_prover.py", "tests/unit/prove/")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker more than the cores this process may run on. A worker waits a
    fifth of its time (on the subprocesses and loopback servers its tests start), and a third
    worker fills that on 2 cores: 53.7 and 57.2 s against 60.2 s with two, four were slower
    (62.1 s)."""
    return len(os.sched_getaffinity(0)) + 1


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile``, with the files of ``ONE_WORKER`` one unit of work. (xdist's
    ``loadgroup`` marks do not reach its scheduler under pytest 9.2: it renames items
    through an attribute pytest no longer reads.) xdist is imported here: the LocalStack
    env runs a test of this folder without it."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FilesSharingProofs(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            shared = nodeid.startswith(ONE_WORKER)
            return "proofs" if shared else super()._split_scope(nodeid)

    return FilesSharingProofs(config, log)
