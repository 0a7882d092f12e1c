"""Every poll interval and time bound of the harness and its local target, in one place.

A wait is a :func:`poll` loop: it sleeps ``interval_s`` between attempts and, once its bound
is spent, raises :class:`DeadlineExceeded` naming what it waited for and for how long, so an
unattended run never hangs and its failure says which step was stuck.

Bounds can be shortened (never lengthened) with ``HARNESS_BOUND_<NAME>=<seconds>`` in the
environment, for drills that prove a stuck step fails within its bound.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

POLL_S = 0.1
"""Between two looks at something in progress on an emulated target (stack, execution, job)."""

BOUNDS_S: dict[str, float] = {
    "stack_operation": 300.0,  # one CloudFormation create, update or delete
    "pipeline_first_run": 60.0,  # the run CreatePipeline starts by itself
    "pipeline_run": 300.0,  # one pipeline execution followed by the harness
    "approval": 7 * 24 * 3600.0,  # a manual approval, as CodePipeline's seven days
    "training_job": 900.0,  # createTrainingJob.sync in a local state machine
    # a pipeline's Step Functions action: its execution's training job and the steps around
    # it, so the training job's own bound fires first and names the job
    "state_machine_execution": 960.0,
    "endpoint_start": 300.0,  # Creating -> InService of a local endpoint
    "lambda_job": 900.0,  # a Lambda action's job result (its function's own timeout is less)
    "stop": 5.0,  # a worker thread joined when its owner stops
    "admin_call": 30.0,  # one call to a served local target's admin API (harness serve)
}


class DeadlineExceeded(TimeoutError):
    """A wait ran out of time; the message names what it waited for and how long."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"{what}: gave up after {seconds:g} s (bound)")
        self.what = what
        self.seconds = seconds


def bound(name: str, default: float | None = None) -> float:
    """The bound called ``name`` in seconds: ``default`` (a target's own) or :data:`BOUNDS_S`,
    or shorter if the environment says so (``HARNESS_BOUND_STACK_OPERATION=5``)."""
    default = BOUNDS_S[name] if default is None else default
    given = os.environ.get(f"HARNESS_BOUND_{name.upper()}")
    if not given:
        return default
    try:
        return min(default, float(given))
    except ValueError:
        return default


class Wakes(Protocol):
    """What a poll's sleep can wait on instead: a :class:`threading.Event`, :class:`Changes`."""

    def wait(self, timeout: float | None = None) -> bool: ...


class Changes:
    """Wakes pollers when what they poll may have changed (a local stack operation ended),
    so a :func:`poll` given it as ``stop`` looks again at once instead of after its interval.
    A change while a poller was looking is not lost: its next wait returns at once (each
    thread's wait remembers how many changes it has seen; its first returns at once)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._seen = threading.local()

    def notify(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        with self._changed:
            missed = getattr(self._seen, "count", -1) != self._count
            changed = missed or self._changed.wait(timeout)
            self._seen.count = self._count
            return changed


def poll(
    what: str,
    bound_s: float,
    interval_s: float = POLL_S,
    stop: Wakes | None = None,
) -> Iterator[int]:
    """Yield attempt numbers, ``interval_s`` apart, until the caller breaks out; after
    ``bound_s`` raise :class:`DeadlineExceeded` naming ``what``. With ``stop``, the sleep ends
    early when it is set or notified (the caller checks it at the next attempt)."""
    deadline = time.monotonic() + bound_s
    attempt = 0
    while time.monotonic() <= deadline:
        yield attempt
        attempt += 1
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        pause = min(interval_s, remaining)
        if stop is not None:
            stop.wait(pause)
        else:
            time.sleep(pause)
    raise DeadlineExceeded(what, bound_s)


def join_all(threads: Iterable[threading.Thread], bound_s: float) -> list[str]:
    """Join ``threads`` within ``bound_s`` in all; the names of those still running."""
    deadline = time.monotonic() + bound_s
    stuck = []
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
        if thread.is_alive():
            stuck.append(thread.name)
    return stuck


class Workers:
    """The threads one owner starts: finished ones are pruned at each start, and ``join``
    waits for the rest within a bound, so no worker outlives its owner unnoticed."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, name: str, work: Callable[..., object], *args: object) -> threading.Thread:
        thread = threading.Thread(target=work, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def join(self, bound_s: float | None = None) -> list[str]:
        """Wait for every worker within ``bound_s`` (default the ``stop`` bound); the names
        of those still running, which are kept for a later join."""
        with self._lock:
            threads = list(self._threads)
        stuck = join_all(threads, bound("stop") if bound_s is None else bound_s)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
        return [f"{self.kind} {name}" for name in stuck]
