"""The gateway benchmark runs to its figures against today's local target (one round: the
ratios of a single round are noise, so only that it gets there is checked; it had broken when
the target's moto adapter changed and nothing noticed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_gateway_benchmark_reaches_its_ratios() -> None:
    completed = subprocess.run(
        [sys.executable, "benchmarks/gateway.py", "--rounds", "1", "--repeat", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    for path in ("deployer", "cross-account"):
        assert f"overhead_ratio_{path}=" in completed.stdout, completed.stdout
