"""Interrupt drills: ``harness run --target local`` is sent SIGINT or SIGTERM once it reports a
phase (deploy, pipeline, checks, teardown). It must exit 130 or 143 within a bound, having torn
down what it made (a signal during teardown does not stop teardown), its own leak check empty,
and its report must say in which phase it was interrupted.

The local target ends with its process, so what is left is judged by the run's own leak check
(in summary.md) and by the process ending within the bound: nothing of it can outlive it.
Interrupting at deploy and at the pipeline is quick (the default drills env); at the checks and
at teardown it needs a whole pipeline run first, so those run in the nightly env.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.drills.suite import REPO

PHASE_WITHIN_S = 240.0  # from start until the phase's progress line
EXIT_WITHIN_S = 120.0  # from the signal until the process has ended, teardown included


@dataclass(frozen=True)
class Interrupted:
    code: int
    output: str
    exit_seconds: float  # from the signal to the process's end


def _lines(stream: queue.Queue[str | None], process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        stream.put(line)
    stream.put(None)


def interrupt_run(
    report: Path, number: signal.Signals, after: tuple[str, ...], command: str = "run"
) -> Interrupted:
    """Start ``harness <command>``, wait for the progress lines ``after`` in that order, send
    ``number``, and wait for the process to end."""
    harness = [sys.executable, "-m", "harness.cli", command, "--target", "local"]
    return interrupt([*harness, "--report", str(report)], number, after)


def interrupt(argv: list[str], number: signal.Signals, after: tuple[str, ...]) -> Interrupted:
    """Start ``argv``, wait for the lines ``after`` in that order, send ``number`` to that
    process alone, and wait for it to end."""
    process = subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # buffered, as in CI: the progress lines must be flushed by the harness itself
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
    )
    stream: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(stream, process), name="drill output")
    reader.start()
    seen: list[str] = []
    waiting = list(after)
    deadline = time.monotonic() + PHASE_WITHIN_S
    try:
        while waiting:
            line = stream.get(timeout=max(deadline - time.monotonic(), 0.01))
            assert line is not None, "the run ended before its phase:\n" + "".join(seen[-60:])
            seen.append(line)
            if waiting[0] in line:
                waiting.pop(0)
        process.send_signal(number)
        signalled = time.monotonic()
        process.wait(timeout=EXIT_WITHIN_S)
        ended = time.monotonic()
    except (queue.Empty, subprocess.TimeoutExpired):
        process.kill()
        raise
    finally:
        reader.join(timeout=10)
    while (line := stream.get_nowait() if not stream.empty() else None) is not None:
        seen.append(line)
    return Interrupted(process.returncode, "".join(seen), ended - signalled)


@dataclass(frozen=True)
class Drill:
    signal: signal.Signals
    after: tuple[str, ...]  # progress lines, in order, before the signal is sent


DRILLS = {
    "deploy": Drill(signal.SIGINT, ("phase: deploy", "deploying")),
    "pipeline": Drill(signal.SIGTERM, ("phase: pipeline", "stage Source")),
    "checks": Drill(signal.SIGINT, ("phase: pipeline", "phase: checks")),
    "teardown": Drill(signal.SIGTERM, ("phase: teardown", "removing")),
}
QUICK = {"deploy", "pipeline"}


@pytest.mark.parametrize(
    "phase",
    [p if p in QUICK else pytest.param(p, marks=pytest.mark.nightly) for p in DRILLS],
)
def test_interrupt_tears_down_and_says_where(phase: str, tmp_path: Path) -> None:
    drill = DRILLS[phase]
    run = interrupt_run(tmp_path, drill.signal, drill.after)
    name = drill.signal.name
    assert run.code == 128 + drill.signal.value, run.output[-4000:]
    assert run.exit_seconds < EXIT_WITHIN_S
    summary = (tmp_path / "summary.md").read_text()
    said = f"interrupted by {name} during {phase}; teardown ran ("
    assert said in summary, summary[:3000]
    assert "leak check: nothing left" in summary, summary[:3000]
    assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]
    assert f"**INTERRUPTED on target local (exit {run.code})" in summary, summary[:500]
    phases = json.loads((tmp_path / "phases.json").read_text())["phases"]
    assert "teardown" in phases, phases
    assert "Traceback" not in run.output.split("phase: teardown", 1)[-1], run.output[-4000:]


@pytest.mark.nightly
def test_mutate_interrupted_at_deploy_tears_down_and_exits_143(tmp_path: Path) -> None:
    run = interrupt_run(tmp_path, signal.SIGTERM, ("deploying",), command="mutate")
    assert run.code == 143, run.output[-4000:]
    assert run.exit_seconds < EXIT_WITHIN_S
    said = "harness mutate: interrupted by SIGTERM during deploy; the mutant in place was restored"
    assert said in run.output, run.output[-4000:]
    assert "teardown left" not in run.output, run.output[-4000:]
