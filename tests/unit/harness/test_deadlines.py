"""Waits end within their bound naming what they waited for; owners join their workers within
a bound and name the ones that are stuck."""

from __future__ import annotations

import threading
import time

import pytest

from harness.cloudformation import CloudFormationService
from harness.deadlines import BOUNDS_S, Changes, DeadlineExceeded, Workers, bound, poll


def test_poll_gives_up_after_its_bound_naming_what_it_waited_for() -> None:
    began = time.monotonic()
    attempts = []
    with pytest.raises(DeadlineExceeded, match=r"stack x to finish: gave up after 0.3 s"):
        for attempt in poll("stack x to finish", 0.3, interval_s=0.05):
            attempts.append(attempt)
    assert 0.3 <= time.monotonic() - began < 1.0
    assert len(attempts) > 2


def test_poll_ends_when_the_caller_breaks_out() -> None:
    for attempt in poll("three attempts", 5.0, interval_s=0.01):
        if attempt == 2:
            break
    assert attempt == 2


def test_the_environment_may_shorten_a_bound_but_never_lengthen_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_BOUND_STACK_OPERATION", "3")
    assert bound("stack_operation") == 3.0
    monkeypatch.setenv("HARNESS_BOUND_STACK_OPERATION", "99999")
    assert bound("stack_operation") == BOUNDS_S["stack_operation"]
    assert bound("stack_operation", 10.0) == 10.0


def test_workers_are_pruned_and_a_stuck_one_is_named_within_the_bound() -> None:
    release = threading.Event()
    workers = Workers("stack operation")
    workers.start("quick", lambda: None).join()
    workers.start("stuck (CREATE_IN_PROGRESS)", release.wait)
    assert len(workers._threads) == 1  # the finished one was pruned at the second start
    began = time.monotonic()
    assert workers.join(0.2) == ["stack operation stuck (CREATE_IN_PROGRESS)"]
    assert time.monotonic() - began < 1.0
    release.set()
    assert workers.join(2.0) == []


def test_the_cloudformation_service_wait_is_bounded_and_names_the_stuck_stack() -> None:
    service = CloudFormationService(clients_for=lambda caller, role: None)  # type: ignore[arg-type,return-value]
    release = threading.Event()
    service._workers.start("app (CREATE_IN_PROGRESS)", release.wait)
    assert service.wait(0.1) == ["stack operation app (CREATE_IN_PROGRESS)"]
    release.set()
    assert service.wait(2.0) == []


def test_a_poll_looks_again_as_soon_as_changes_are_notified() -> None:
    changes = Changes()
    threading.Timer(0.3, changes.notify).start()
    began = time.monotonic()
    for attempt in poll("a stack to settle", 30.0, interval_s=20.0, stop=changes):
        if attempt == 2:  # the first wait returns at once: a change may have come unseen
            break
    assert 0.25 <= time.monotonic() - began < 5.0  # woken by the notice, not the 20 s interval


def test_a_change_while_the_poller_looked_is_not_lost() -> None:
    changes = Changes()
    assert changes.wait(0)  # the first look
    assert not changes.wait(0.05)  # nothing changed since
    changes.notify()  # while the poller looks again
    began = time.monotonic()
    assert changes.wait(20.0)
    assert time.monotonic() - began < 1.0


def test_the_cloudformation_service_notifies_when_an_operation_ends() -> None:
    service = CloudFormationService(clients_for=lambda caller, role: None)  # type: ignore[arg-type,return-value]
    release = threading.Event()
    service._workers.start(
        "app (CREATE_IN_PROGRESS)", service._notifying(lambda _: release.wait()), None
    )
    woken = threading.Event()

    def waiter() -> None:
        service.changes.wait(0)  # a first look: nothing seen yet
        if service.changes.wait(10.0):
            woken.set()

    threading.Thread(target=waiter).start()
    time.sleep(0.1)
    assert not woken.is_set()
    release.set()
    assert woken.wait(5.0)
