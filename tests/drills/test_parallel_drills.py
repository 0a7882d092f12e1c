"""Parallel-run drills: two runs at once on one machine, with different prefixes and report
folders, both pass: nothing (ports, files, state) is shared between them.

The compliance suite is not split by pytest-xdist, by design: it deploys once per session and
judges each promise on all of its checks, so ``-n 2`` would make a deployment per worker, a
verdict of half the checks in each and two writers of one report folder. The plugin refuses
``-n`` (a usage error naming how to run suites at once, quick: the default drills env); what
runs at once instead is two suites (``pytest``) or two ``harness run``, each with its own
prefix and report folder. Two whole runs at once on 2 cores take minutes: nightly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.drills.suite import REPO, run_suite, suite_command

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


def test_the_suite_under_xdist_is_refused_naming_how_to_run_two(tmp_path: Path) -> None:
    completed = run_suite(tmp_path, "-n", "2")
    assert completed.returncode == 4, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert "the compliance suite deploys once per session" in completed.stderr
    assert not (tmp_path / "summary.md").exists()  # refused before anything started


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
