"""The gateway benchmark runs to its figures against today's local target (one round: the
ratios of a single round are noise, so only that it gets there is checked; it had broken when
the target's moto adapter changed and nothing noticed).

It runs in this process, whose boto3, moto and local target are loaded already: as a script
it paid ~2 s of CPU to import them again."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_the_gateway_benchmark_reaches_its_ratios(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("gateway", REPO / "benchmarks" / "gateway.py")
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, benchmark)  # its dataclasses look it up
    spec.loader.exec_module(benchmark)
    # No warm-up: the figures are not checked, and warming each server took ~1 s of CPU.
    argv = ["gateway.py", "--rounds", "1", "--repeat", "1", "--warm-up", "0"]
    monkeypatch.setattr(sys, "argv", argv)
    with contextlib.suppress(SystemExit):  # exit 1: a one-round ratio over the goal (noise)
        benchmark.main()
    output = capsys.readouterr().out
    for path in ("deployer", "cross-account"):
        assert f"overhead_ratio_{path}=" in output, output
