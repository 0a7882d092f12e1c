"""The whole pipeline on a ``harness serve`` process, from other processes, as a team developing
against it would: ``harness deploy``, ``check`` and ``destroy --target local`` reach it through
the environment file it writes; the suite proves every promise on the served deployment with the
served target's decision log as evidence, and destroy leaves nothing. A whole deploy and run
each: nightly.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import serve
from tests.unit.test_serve import Served, _exports, _start

PREFIX = "served"
COMMAND_BOUND_S = 600


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    started = _start(tmp_path)
    yield started
    started.process.terminate()
    started.process.wait(60)


def _harness(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HARNESS_"))}
    exports = _exports(served.folder / "serve" / serve.ENVIRONMENT_FILE)
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args, "--target", "local", "--prefix", PREFIX],
        cwd=served.folder,
        env={**environ, **exports},
        capture_output=True,
        text=True,
        timeout=COMMAND_BOUND_S,
    )


@pytest.mark.nightly
def test_deploy_check_destroy_on_a_served_target(served: Served) -> None:
    deployed = _harness(served, "deploy")
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    assert json.loads(deployed.stdout)["settings"]["Prefix"] == PREFIX
    report = served.folder / "report"
    checked = _harness(served, "check", "--report", str(report))
    assert checked.returncode == 0, checked.stdout[-3000:]
    verdict = re.search(
        r"^PASS on target local \(exit 0\): every promise PROVEN; (.*)$", checked.stdout, re.M
    )
    assert verdict is not None, checked.stdout[-3000:]
    assert re.fullmatch(r"\d+ passed", verdict.group(1))  # nothing skipped, nothing failed
    logged = (report / "decisions.jsonl").read_text().splitlines()
    assert any(f"{PREFIX}-" in line for line in logged)  # the served log, with this deployment
    destroyed = _harness(served, "destroy")
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert destroyed.stdout.splitlines()[-1] == "nothing left"
    again = _harness(served, "destroy")  # the deployment really went: nothing to find
    assert again.stdout.splitlines()[-1] == "nothing left"
