"""The local target's listener: keep-alive connections, a chunked body with trailers read to
its end so the next request on the same connection is answered at once, and TLS set up
without the system's trust store, serving the certificate alone."""

from __future__ import annotations

import http.client
import ssl
import time
from pathlib import Path
from typing import Any

import pytest

from harness.gateway.tls import generate_tls_material
from harness.targets.local.server import Listener, _Gateway, _tls_adapter


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def test_chunked_body_with_trailers_then_another_request_on_the_same_connection() -> None:
    listener = Listener(_echo)
    try:
        port = int(listener.url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.putrequest("PUT", "/object")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.putheader("Trailer", "x-amz-checksum-crc32")
        connection.endheaders()
        connection.send(b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n")
        first = connection.getresponse()
        assert (first.status, first.read()) == (200, b"hello")
        began = time.monotonic()
        connection.request("PUT", "/again", body=b"world")
        second = connection.getresponse()
        assert (second.status, second.read()) == (200, b"world")
        assert time.monotonic() - began < 2, "the second request waited for a timeout"
        assert second.getheader("Connection") != "close", "the connection was not kept alive"
    finally:
        listener.close()


def test_more_idle_connections_than_cheroots_default_are_kept_alive() -> None:
    """A run holds a connection per client; past cheroot's ten the server closed each one
    after its answer, and every request paid a new handshake."""
    listener = Listener(_echo)
    try:
        port = int(listener.url.rsplit(":", 1)[1])
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(30)]
        for index, connection in enumerate(connections):
            connection.request("PUT", "/", body=str(index).encode())
            answer = connection.getresponse()
            assert answer.read() == str(index).encode()
            assert answer.getheader("Connection") != "close", f"connection {index} was closed"
    finally:
        for connection in connections:
            connection.close()
        listener.close()


def test_a_tls_listener_starts_without_the_system_trust_store_and_sends_no_chain(
    tmp_path: Path,
) -> None:
    """Loading the system's CA certificates took ~25 ms of CPU per listener, and a run
    trusts only its own CA; a serving context holding that CA sent it with the certificate
    in every handshake, ~0.7 ms more per connection. Clients that trust the CA alone reach
    the listener."""
    tls = generate_tls_material(tmp_path)
    system_loads: list[object] = []
    real = ssl.SSLContext.load_default_certs

    def recording(context: ssl.SSLContext, *args: Any) -> None:
        system_loads.append(args)
        real(context, *args)

    with pytest.MonkeyPatch.context() as patch:  # not the test's: it guards the sockets
        patch.setattr(ssl.SSLContext, "load_default_certs", recording)
        adapter = _tls_adapter(tls)
        listener = Listener(_echo, tls)
    try:
        assert system_loads == []
        assert adapter.context.cert_store_stats()["x509"] == 0, "the CA would go out too"
        port = int(listener.url.rsplit(":", 1)[1])
        trusting = ssl.create_default_context(cafile=str(tls.ca_bundle))
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=trusting)
        connection.request("PUT", "/", body=b"over tls")
        answer = connection.getresponse()
        assert (answer.status, answer.read()) == (200, b"over tls")
        connection.close()
    finally:
        listener.close()


class _Connection:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.wfile = self

    def write(self, data: bytes) -> int:
        self.writes.append(data)
        return len(data)


class _Request:
    """The part of cheroot's request its WSGI gateway writes through."""

    def __init__(self) -> None:
        self.conn = _Connection()
        self.sent_headers = False
        self.chunked_write = False

    def ensure_headers_sent(self) -> None:
        if not self.sent_headers:
            self.sent_headers = True
            self.conn.wfile.write(b"HTTP/1.1 200 OK\r\n\r\n")

    def write(self, chunk: bytes) -> None:
        self.conn.wfile.write(chunk)


def test_a_response_s_head_goes_out_in_one_write_with_its_first_chunk() -> None:
    request = _Request()
    gateway = object.__new__(_Gateway)
    gateway.req = request  # type: ignore[assignment]
    gateway.started_response = True
    gateway.remaining_bytes_out = None
    gateway.write(b"first")
    gateway.write(b"second")
    assert request.conn.writes == [b"HTTP/1.1 200 OK\r\n\r\nfirst", b"second"]
    assert request.conn.wfile is request.conn, "the connection's own writer is back"
