"""The tests' server helper: a stop waits at most one poll of the serving thread, so the
poll is short (socketserver's default of 0.5 s was idle time at every fixture's end)."""

from __future__ import annotations

import boto3
import pytest

from tests.unit.serving import POLL_S, moto_server, served


def test_a_served_server_answers_polls_often_and_is_closed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = moto_server()
    polls: list[float] = []
    serve_forever = server.serve_forever

    def recorded(poll_interval: float) -> None:
        polls.append(poll_interval)
        serve_forever(poll_interval)

    monkeypatch.setattr(server, "serve_forever", recorded)
    with served(server):
        sts = boto3.client("sts", endpoint_url=f"http://127.0.0.1:{server.server_port}")
        assert sts.get_caller_identity()["Account"]  # moto answers
    assert polls == [POLL_S] and POLL_S <= 0.05
    assert server.socket.fileno() == -1
