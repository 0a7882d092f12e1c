"""SIGINT and SIGTERM during a run: noted with the phase they came in, turned into
:class:`KeyboardInterrupt` so the run unwinds to its teardown, and held off while teardown
runs, so an unattended run that is stopped still leaves nothing behind.

The run then exits ``128 + signal number`` (130 for SIGINT, 143 for SIGTERM), as a shell
reports a process a signal ended, and its report says in which phase it was interrupted.
Handlers are only installed on the main thread (Python delivers signals there alone).
A run split across processes (pytest-xdist's workers) passes the first signal on to them, so
each unwinds to its own teardown however the signal came.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class Interruption:
    """The first signal a run received and the phase it was in."""

    signal: str  # SIGINT | SIGTERM
    phase: str  # deploy | pipeline | checks | teardown | ...
    exit_code: int  # 128 + the signal's number

    def describe(self) -> str:
        return f"interrupted by {self.signal} during {self.phase}"

    def unwinding(self) -> KeyboardInterrupt:
        """The exception that unwinds the run to its teardown."""
        return KeyboardInterrupt(f"{self.signal} during {self.phase}: tearing the run down")


class Interrupts:
    """The run's signal handlers and the phase it is in (set by whoever starts a phase)."""

    def __init__(self) -> None:
        self.phase = "start"
        self.received: Interruption | None = None
        self._shielded = 0
        self._previous: dict[int, Any] = {}
        self._children: set[int] = set()
        self._passed_on = False
        self._raised: KeyboardInterrupt | None = None

    def install(self) -> bool:
        """Take over SIGINT and SIGTERM; False (nothing done) off the main thread."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for number in SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return True

    def restore(self) -> None:
        """Put back the handlers :meth:`install` replaced."""
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    def adopt(self, pid: int) -> None:
        """Pass the run's first signal on to process ``pid`` too; now, if it came before
        any process could be told (it then came while the processes started)."""
        self._children.add(pid)
        if self.received is not None and not self._passed_on:
            self._pass_on(signal.Signals[self.received.signal])

    def disown(self, pid: int) -> None:
        self._children.discard(pid)

    def _pass_on(self, number: int) -> None:
        for pid in self._children:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                os.kill(pid, number)
                self._passed_on = True

    @contextmanager
    def shielded(self, phase: str) -> Iterator[None]:
        """Run a phase that must finish (teardown): a signal meanwhile is only noted."""
        outer, self.phase = self.phase, phase
        self._shielded += 1
        try:
            yield
        finally:
            self._shielded -= 1
            self.phase = outer

    def _handle(self, number: int, _frame: FrameType | None) -> None:
        """The first signal unwinds the run to its teardown (unless it is in one); a later
        one is ignored, so it cannot cut short the teardown the first one started."""
        if self.received is not None:
            return
        name = signal.Signals(number).name
        self.received = Interruption(name, self.phase, 128 + number)
        self._pass_on(number)
        if not self._shielded:
            self._raised = self.received.unwinding()
            raise self._raised

    def unwind(self) -> None:
        """Raise the run's interrupt again if the run went on after it (call where the run may
        unwind: a check or a mutant is about to start). The handler raises wherever the main
        thread is: raised in a weakref callback or a ``__del__``, the interrupt is only
        printed, and code that catches everything drops it. Either way the run would go on to
        its end, deaf to a second signal. A signal noted in a shielded phase unwinds here
        too, once that phase is over."""
        if self.received is not None and not self._shielded:
            raise self.received.unwinding()

    def lost(self, unraisable: Any) -> bool:
        """Whether ``unraisable`` (what ``sys.unraisablehook`` is given) is the interrupt the
        handler raised, lost where Python only prints it: :meth:`unwind` raises it again, so
        it is not worth a traceback."""
        return self._raised is not None and unraisable.exc_value is self._raised
