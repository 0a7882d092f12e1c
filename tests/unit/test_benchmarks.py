"""The gateway benchmark runs to its figures against today's local target (one round: the
ratios of a single round are noise, so only that it gets there is checked; it had broken when
the target's moto adapter changed and nothing noticed).

It runs in this process, whose boto3, moto and local target are loaded already: as a script
it paid ~2 s of CPU to import them again. What the benchmarks say of the machine beside their
figures (its steal time, its speed) is read as they read it. The engine benchmark's fresh
process answers as the benchmark's own process decides."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _benchmark(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``benchmarks/<name>.py`` loaded as a module (the folder is no package, and its scripts
    import each other as run from it), registered for the test's length: a benchmark's
    dataclasses look their module up."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, benchmark)
    spec.loader.exec_module(benchmark)
    return benchmark


def test_the_gateway_benchmark_reaches_its_ratios(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    benchmark = _benchmark("gateway", monkeypatch)
    # No warm-up: the figures are not checked, and warming each server took ~1 s of CPU.
    argv = ["gateway.py", "--rounds", "1", "--repeat", "1", "--warm-up", "0"]
    monkeypatch.setattr(sys, "argv", argv)
    with contextlib.suppress(SystemExit):  # exit 1: a one-round ratio over the goal (noise)
        benchmark.main()
    output = capsys.readouterr().out
    for path in ("deployer", "cross-account"):
        assert f"overhead_ratio_{path}=" in output, output


def test_benchmarks_read_steal_from_proc_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine = _benchmark("machine", monkeypatch)
    stat = tmp_path / "stat"
    ticks = os.sysconf("SC_CLK_TCK")
    stat.write_text(f"cpu  4670700 1728 362828 7475819 18168 0 43178 {5 * ticks} 0 0\ncpu0 1 2\n")
    assert machine.stolen_s(stat) == 5.0
    stat.write_text("intr 1 2 3\n")
    assert machine.stolen_s(stat) is None
    assert machine.stolen_s(tmp_path / "missing") is None


def test_the_machines_speed_is_a_fixed_workloads_cpu_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More rounds of the workload take more CPU: the figure measures the work, not a clock
    that could read anything."""
    machine = _benchmark("machine", monkeypatch)
    one, ten = machine.reference_s(rounds=1), machine.reference_s(rounds=10)
    assert 0 < one < ten


def test_the_engine_benchmarks_fresh_pass_decides_as_the_benchmark_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its best time counts only if the fresh process did the same work: the same cases,
    compiled the same, allowed the same (a worker that decided nothing, or other cases, would
    be fastest of all)."""
    benchmark = _benchmark("policy_engine", monkeypatch)
    cases = benchmark.generated_cases(300, 7)
    compiled, _ = benchmark.compile_policies(cases)
    allowed = sum(d.allowed for d in benchmark.decide(cases))
    fresh = benchmark.run_ours(300, 7)
    assert (fresh.compiled, fresh.allowed) == (compiled, allowed)
    assert 0 < allowed < len(cases)
    assert fresh.decide_seconds > 0
