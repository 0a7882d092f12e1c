"""LocalStack's (or LocalEmu's) host-mode runtime, started as a child process without Docker.

The runtime gets its own filesystem root and HOME under a work directory, listens on a free
loopback port, and is stopped (its whole process group) and cleaned up by ``stop``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

SERVING = frozenset({"available", "running"})
"""Health states of a service that answers requests (others: disabled, error, ...)."""


class RuntimeFailed(RuntimeError):
    """The runtime did not become healthy; the message carries the end of its log."""


def fetch_health(
    endpoint_url: str, health_path: str, timeout: float = 2.0
) -> dict[str, object] | None:
    """The runtime's health document, or None when nothing healthy answers at the endpoint."""
    try:
        with urllib.request.urlopen(endpoint_url.rstrip("/") + health_path, timeout=timeout) as r:
            document = json.load(r)
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def service_states(health: Mapping[str, object]) -> dict[str, str]:
    """Service name -> state from a health document."""
    services = health.get("services", {})
    return {str(k): str(v) for k, v in services.items()} if isinstance(services, dict) else {}


def serving(health: Mapping[str, object], wanted: Iterable[str]) -> bool:
    """Whether every wanted service the runtime knows answers requests. Services it does not
    list at all (not part of this build) cannot become ready and are not waited for."""
    states = service_states(health)
    return all(states[name] in SERVING for name in wanted if name in states)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class HostRuntime:
    """One host-mode runtime process: ``python -m <package>.runtime.main`` for LocalStack
    (``localstack``) or LocalEmu (``localemu``). ``extra_env`` adds flavour settings."""

    services: Iterable[str]
    package: str = "localstack"
    health_path: str = "/_localstack/health"
    python: str = sys.executable
    extra_env: Mapping[str, str] = field(default_factory=dict)
    startup_timeout: float = 120.0
    health_poll_seconds: float = 0.5  # LocalStack takes seconds; a test's fake, milliseconds
    workdir: Path | None = None
    port: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _owned_workdir: bool = field(default=False, init=False, repr=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        if self.workdir is None:
            raise RuntimeError("the runtime is not started")
        return self.workdir / "localstack.log"

    def environment(self) -> dict[str, str]:
        """The child's environment: the documented host-mode settings, nothing from AWS."""
        if self.workdir is None:
            raise RuntimeError("the runtime has no work directory yet")
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "LOCALSTACK_")) and key not in {"SERVICES", "HOME"}
        }
        return inherited | {
            "OVERRIDE_IN_DOCKER": "0",
            "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
            "GATEWAY_SERVER": "hypercorn",
            "DNS_ADDRESS": "0",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DISABLE_EVENTS": "1",
            "PERSISTENCE": "0",
            "SERVICES": ",".join(sorted(self.services)),
            "FILESYSTEM_ROOT": str(self.workdir / "filesystem"),
            "HOME": str(self.workdir / "home"),
            **self.extra_env,
        }

    def start(self) -> None:
        if self._process is not None:
            return
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="localstack-host-"))
            self._owned_workdir = True
        for sub in ("filesystem", "home"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [self.python, "-m", f"{self.package}.runtime.main"],
                cwd=self.workdir,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() reaches its children
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeFailed(
                    f"runtime exited with {self._process.returncode}: {self._tail()}"
                )
            health = fetch_health(self.endpoint_url, self.health_path)
            if health is not None and serving(health, self.services):
                return
            time.sleep(self.health_poll_seconds)
        raise RuntimeFailed(f"runtime not healthy after {self.startup_timeout}s: {self._tail()}")

    def _tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._owned_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
            self._owned_workdir = False
