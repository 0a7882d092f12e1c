"""Parallel-run drills: two runs at once on one machine, with different prefixes and report
folders, both pass, and the suite split across pytest-xdist workers passes with one merged
report: nothing (ports, files, state) is shared between two copies.

Under ``-n 2`` each worker deploys its own copy (its own local target, its prefix the user's
with ``-gwN`` added) and the controller judges every promise on all the workers' checks
(``harness.workers``). Each drill is two whole deployments and pipeline runs on 2 cores: nightly.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.drills.suite import REPO, pytest_command, run_suite, suite_command
from tests.drills.test_interrupt_drills import interrupt

RUNS_WITHIN_S = 900.0
PREFIXES = ("drill-one", "drill-two")


def _both_pass(report: Path, runs: dict[str, subprocess.Popen[str]]) -> None:
    """Each run exits 0, proves every promise, used its own prefix, and leaves nothing."""
    outputs = {prefix: run.communicate(timeout=RUNS_WITHIN_S)[0] for prefix, run in runs.items()}
    for prefix, run in runs.items():
        assert run.returncode == 0, f"{prefix}:\n{outputs[prefix][-4000:]}"
        summary = (report / prefix / "summary.md").read_text()
        assert "**PASS on target local (exit 0): every promise PROVEN" in summary, summary[:500]
        decisions = (report / prefix / "decisions.jsonl").read_text()
        assert f"{prefix}-artifacts" in decisions
        other = next(p for p in PREFIXES if p != prefix)
        assert f"{other}-" not in decisions, f"{prefix}'s decision log has {other}'s requests"
        assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]


def _start(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _collected() -> int:
    """How many checks the suite has: what a serial run reports, one result each."""
    listed = subprocess.run(
        pytest_command("--collect-only"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return sum("::" in line for line in listed.stdout.splitlines())


def _ports(endpoints: list[str]) -> set[int]:
    return {int(url.rsplit(":", 1)[1].strip("/")) for url in endpoints}


@pytest.mark.nightly
def test_the_suite_under_xdist_passes_with_one_merged_report(tmp_path: Path) -> None:
    completed = run_suite(tmp_path, "-n", "2")
    output = completed.stdout[-4000:] + completed.stderr[-2000:]
    assert completed.returncode == 0, output
    checks = _collected()
    summary = (tmp_path / "summary.md").read_text()
    assert f"**PASS on target local (exit 0): every promise PROVEN; {checks} passed**" in summary
    junit = ElementTree.parse(tmp_path / "junit.xml").getroot()
    assert len(list(junit.iter("testcase"))) == checks
    properties = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert [properties[f"promise-{n}"] for n in (1, 2, 3, 4)] == ["PROVEN"] * 4
    workers = json.loads((tmp_path / "workers.json").read_text())
    assert [w["prefix"] for w in workers] == ["mlops-gw0", "mlops-gw1"]
    assert not _ports(workers[0]["endpoints"]) & _ports(workers[1]["endpoints"])
    # Each worker wrote only its own folder, the controller only the top level: the joined
    # decision log is exactly the workers' two, each holding its own prefix's requests alone.
    logs = [(tmp_path / "workers" / w["worker"] / "decisions.jsonl").read_text() for w in workers]
    assert (tmp_path / "decisions.jsonl").read_text() == "".join(logs)
    for worker, log in zip(workers, logs, strict=True):
        other = next(w["prefix"] for w in workers if w is not worker)
        assert f"{worker['prefix']}-artifacts" in log and f"{other}-" not in log
    assert sorted(p.name for p in (tmp_path / "workers").iterdir()) == ["gw0", "gw1"]
    assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]


@pytest.mark.nightly
def test_sigterm_to_the_controller_tears_every_worker_down(tmp_path: Path) -> None:
    """SIGTERM to the xdist controller alone (as a CI runner's cancel may send it): it passes
    the signal on, each worker tears its copy down and sends its part, and the run exits 143
    saying where it stopped, every worker's leak check empty."""
    verbose = suite_command(tmp_path, "-n", "2", "-vv")  # -q -vv: a line per check as it ends
    run = interrupt(verbose, signal.SIGTERM, ("PASSED",))
    assert run.code == 143, run.output[-4000:]
    summary = (tmp_path / "summary.md").read_text()
    # The first check passed on one worker; the other may still deploy or run its pipeline.
    phase = r"(deploy|pipeline|checks)"
    each = rf"{phase} \(gw0\), {phase} \(gw1\)"
    said = rf"interrupted by SIGTERM during ({phase}|{each}); teardown ran \("
    assert re.search(said, summary), summary[:3000]
    assert "leak check: nothing left" in summary, summary[:3000]
    assert "without sending its part" not in summary, summary[-3000:]
    workers = json.loads((tmp_path / "workers.json").read_text())
    assert [w["worker"] for w in workers] == ["gw0", "gw1"]
    assert all("teardown" in w["phases"] for w in workers), workers
    assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]


@pytest.mark.nightly
def test_two_suites_at_once_with_different_prefixes_both_pass(tmp_path: Path) -> None:
    _both_pass(
        tmp_path,
        {
            prefix: _start(suite_command(tmp_path / prefix, "--prefix", prefix))
            for prefix in PREFIXES
        },
    )


@pytest.mark.nightly
def test_two_runs_at_once_with_different_prefixes_both_pass(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "harness.cli", "run", "--target", "local"]
    _both_pass(
        tmp_path,
        {
            prefix: _start([*command, "--prefix", prefix, "--report", str(tmp_path / prefix)])
            for prefix in PREFIXES
        },
    )
