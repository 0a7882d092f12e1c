"""``harness mutate`` on a signal: teardown runs (a second signal does not stop it) and the
exit code is 128 + the signal's number, as ``harness run``'s."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from contextlib import nullcontext
from types import SimpleNamespace

import pytest

from harness.deploy.teardown import TeardownReport
from harness.mutate import cli


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal handlers can only be installed from the main thread",
)
@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_deploy_tears_down_and_exits_128_plus_its_number(
    number: signal.Signals, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    torn_down: list[str] = []

    def deploy(*_args: object) -> None:
        os.kill(os.getpid(), number)
        raise AssertionError("the signal interrupts the deploy")

    def teardown(*_args: object) -> TeardownReport:
        os.kill(os.getpid(), number)  # a second signal: noted, teardown goes on
        torn_down.append("all")
        return TeardownReport()

    monkeypatch.setattr(cli, "make_target", lambda _name: nullcontext(object()))
    monkeypatch.setattr(cli.Settings, "for_target", lambda *_args: object())
    monkeypatch.setattr(cli, "deploy", deploy)
    monkeypatch.setattr(cli, "teardown", teardown)
    before = signal.getsignal(number)

    assert cli.main([]) == 128 + number.value

    assert torn_down == ["all"]
    assert signal.getsignal(number) is before
    said = capsys.readouterr().err
    assert (
        f"harness mutate: interrupted by {number.name} during deploy; the mutant in place" in said
    )


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal handlers can only be installed from the main thread",
)
def test_a_signal_the_deploy_went_on_after_stops_the_run_before_any_mutant(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a KeyboardInterrupt raised in a weakref callback is only printed, or code that
    catches everything drops it: the mutants must not all run anyway."""
    examined: list[object] = []

    def deploy(*_args: object) -> object:
        with contextlib.suppress(KeyboardInterrupt):  # lost
            os.kill(os.getpid(), signal.SIGINT)
        return object()

    monkeypatch.setattr(cli, "make_target", lambda _name: nullcontext(object()))
    monkeypatch.setattr(cli.Settings, "for_target", lambda *_args: object())
    monkeypatch.setattr(cli, "deploy", deploy)
    monkeypatch.setattr(cli, "infra_sites", lambda _deployment: [])
    monkeypatch.setattr(
        cli,
        "generate",
        lambda _sites: SimpleNamespace(mutants=["m1", "m2"], identical=[], rejected=[]),
    )
    monkeypatch.setattr(cli, "baseline", lambda *_args: object())
    monkeypatch.setattr(cli, "examine", lambda _lab, mutant: examined.append(mutant))
    monkeypatch.setattr(cli, "teardown", lambda *_args: TeardownReport())

    assert cli.main(["--only", "key"]) == 130

    assert examined == []
    assert "interrupted by SIGINT during deploy" in capsys.readouterr().err
