"""SIGINT/SIGTERM during a run: the first signal unwinds the run naming its phase, a signal
during teardown is only noted, and a compliance run so stopped exits 128 + the signal's number
with the phase in its summary (the whole-run drills are in tests/drills/)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.interrupts import Interrupts
from tests.unit.harness.fake_suite import run_fake_suite


@pytest.fixture
def interrupts() -> Interrupts:
    handlers = Interrupts()
    assert handlers.install()
    yield handlers
    handlers.restore()


def test_a_signal_unwinds_the_run_naming_the_phase(interrupts: Interrupts) -> None:
    interrupts.phase = "pipeline"
    with pytest.raises(KeyboardInterrupt, match="SIGTERM during pipeline"):
        os.kill(os.getpid(), signal.SIGTERM)
    assert interrupts.received is not None
    assert interrupts.received.describe() == "interrupted by SIGTERM during pipeline"
    assert interrupts.received.exit_code == 143


def test_teardown_is_not_cut_short_and_a_second_signal_is_ignored(
    interrupts: Interrupts,
) -> None:
    interrupts.phase = "checks"
    with interrupts.shielded("teardown"):
        os.kill(os.getpid(), signal.SIGINT)  # noted, not raised
        finished = True
    assert finished and interrupts.phase == "checks"
    assert interrupts.received is not None
    assert (interrupts.received.phase, interrupts.received.exit_code) == ("teardown", 130)
    os.kill(os.getpid(), signal.SIGINT)  # the run is already unwinding: ignored


def test_unwind_raises_a_noted_signal_once_no_phase_is_shielded(
    interrupts: Interrupts,
) -> None:
    interrupts.unwind()  # no signal: nothing to do
    interrupts.phase = "checks"
    with interrupts.shielded("teardown"):
        os.kill(os.getpid(), signal.SIGINT)
        interrupts.unwind()  # a shielded phase is never cut short
    with pytest.raises(KeyboardInterrupt, match="SIGINT during teardown"):
        interrupts.unwind()


def test_only_the_interrupt_the_handler_raised_counts_as_lost(interrupts: Interrupts) -> None:
    with pytest.raises(KeyboardInterrupt) as raised:
        os.kill(os.getpid(), signal.SIGINT)
    assert interrupts.lost(SimpleNamespace(exc_value=raised.value))
    assert not interrupts.lost(SimpleNamespace(exc_value=KeyboardInterrupt("another")))


def test_the_first_signal_is_passed_on_to_the_processes_adopted(interrupts: Interrupts) -> None:
    """As the xdist controller passes it on to its workers, and to one that starts after."""
    sleep = [sys.executable, "-c", "import time; time.sleep(60)"]
    early, late = subprocess.Popen(sleep), subprocess.Popen(sleep)
    try:
        interrupts.adopt(early.pid)
        with interrupts.shielded("workers"):
            os.kill(os.getpid(), signal.SIGTERM)
        assert early.wait(timeout=10) == -signal.SIGTERM
        interrupts.adopt(late.pid)  # came after the signal was passed on: left alone
        assert late.poll() is None
    finally:
        late.kill()
        late.wait()


def test_a_signal_before_any_process_is_adopted_is_passed_on_at_adoption(
    interrupts: Interrupts,
) -> None:
    sleep = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with interrupts.shielded("workers"):
        os.kill(os.getpid(), signal.SIGINT)
    interrupts.adopt(sleep.pid)
    assert sleep.wait(timeout=10) != 0  # Python's default SIGINT handling ends it


def test_restore_puts_the_previous_handlers_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    handlers = Interrupts()
    handlers.install()
    assert signal.getsignal(signal.SIGTERM) is not before
    handlers.restore()
    assert signal.getsignal(signal.SIGTERM) is before


CHECKS = """
import os
import signal


def test_first(harness_target):
    pass


def test_stopped(harness_target):
    os.kill(os.getpid(), signal.SIGTERM)


def test_never_reached(harness_target):
    pass
"""


def test_a_run_sent_sigterm_exits_143_saying_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_fake_suite(tmp_path, monkeypatch, capsys, CHECKS, "--allow-unproven")
    assert run.code == 143, run.output
    assert "**INTERRUPTED on target fake (exit 143): interrupted by SIGTERM during checks" in (
        run.summary_md
    )
    assert "## Interrupted" in run.summary_md
    assert "no teardown ran" in run.summary_md  # the fake target deploys nothing
    assert "test_never_reached" not in run.output.split("harness summary", 1)[-1]
    handler = signal.getsignal(signal.SIGTERM)  # the run's handlers are gone with it
    assert not isinstance(getattr(handler, "__self__", None), Interrupts)


LINELESS = """
import sys


def lineless_frame():
    try:
        pass
    finally:
        pass
    return sys._getframe()


def lineless_offset(frame):
    return next((start for start, _, line in frame.f_code.co_lines() if line is None), None)
"""
CAUGHT_WITHOUT_A_LINE = (
    LINELESS
    + """
import os
import signal
import types


def test_stopped(harness_target):
    try:
        os.kill(os.getpid(), signal.SIGINT)
    except KeyboardInterrupt as interrupt:
        # as if the signal had come on an instruction without a line in this frame
        frame = lineless_frame()
        caught = types.TracebackType(interrupt.__traceback__, frame, lineless_offset(frame), -1)
        assert caught.tb_lineno is None
        raise interrupt.with_traceback(caught)
"""
)


def test_a_signal_caught_on_an_instruction_without_a_line_still_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """pytest's formatter raised TypeError on such a frame, and the run exited 1."""
    helpers: dict[str, Any] = {}
    exec(LINELESS, helpers)
    if helpers["lineless_offset"](helpers["lineless_frame"]()) is None:
        pytest.skip(f"Python {sys.version_info[:2]} gives every instruction here a line")
    run = run_fake_suite(tmp_path, monkeypatch, capsys, CAUGHT_WITHOUT_A_LINE, "--allow-unproven")
    assert run.code == 130, run.output
    assert "INTERRUPTED on target fake (exit 130): interrupted by SIGINT during checks" in (
        run.output
    )
    assert "KeyboardInterrupt" in run.output.split("harness summary", 1)[-1]


LOST_IN_A_CALLBACK = """
import os
import signal
import weakref


class Thing:
    pass


def test_lost(harness_target):
    thing = Thing()
    ref = weakref.ref(thing, lambda _: os.kill(os.getpid(), signal.SIGINT))
    del thing  # the callback runs here, and Python only prints what it raises


def test_never_reached(harness_target):
    pass
"""


def test_an_interrupt_lost_in_a_weakref_callback_unwinds_before_the_next_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Seen in the SIGINT drill at the checks: the run went on to its last check and printed
    the interrupt as an unraisable exception's traceback."""
    run = run_fake_suite(tmp_path, monkeypatch, capsys, LOST_IN_A_CALLBACK, "--allow-unproven")
    assert run.code == 130, run.output
    assert "interrupted by SIGINT during checks" in run.summary_md
    assert "test_never_reached" not in run.output.split("harness summary", 1)[-1]
    assert "1 passed" in run.output
    assert "Traceback" not in run.output and "Unraisable" not in run.output, run.output
