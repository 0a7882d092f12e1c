"""Parallel-run drill: two ``harness run --target local`` at the same time, with different
prefixes and report folders, both pass: nothing (ports, files, state) is shared between them.
Two whole runs at once on 2 cores take minutes: nightly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.drills.suite import REPO

RUNS_WITHIN_S = 900.0


@pytest.mark.nightly
def test_two_runs_at_once_with_different_prefixes_both_pass(tmp_path: Path) -> None:
    runs = {
        prefix: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "harness.cli",
                "run",
                "--target",
                "local",
                "--prefix",
                prefix,
                "--report",
                str(tmp_path / prefix),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for prefix in ("drill-one", "drill-two")
    }
    outputs = {prefix: run.communicate(timeout=RUNS_WITHIN_S)[0] for prefix, run in runs.items()}
    for prefix, run in runs.items():
        assert run.returncode == 0, f"{prefix}:\n{outputs[prefix][-4000:]}"
        summary = (tmp_path / prefix / "summary.md").read_text()
        assert "**PASS on target local (exit 0): every promise PROVEN" in summary, summary[:500]
        assert f"{prefix}-artifacts" in (tmp_path / prefix / "decisions.jsonl").read_text()
        assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]
