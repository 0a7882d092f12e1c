"""Serve a WSGI app on loopback, over plain HTTP or HTTPS, with keep-alive connections.

The local target runs two of these for the same gateway, so a request's transport is real and
``aws:SecureTransport`` can be evaluated rather than assumed. cheroot keeps connections open
between requests as AWS's endpoints do; werkzeug's development server closes each one, so every
request paid a new TCP and TLS handshake (a third of its time).
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from harness.deadlines import bound
from harness.gateway.tls import TlsMaterial

HOST = "127.0.0.1"
WORKERS = 16
SELECT_INTERVAL_S = 0.05
"""How long cheroot's connection loop waits in select(): it sees a stop request only between
two waits, so this bounds how long closing a listener takes (cheroot's default is 0.5 s)."""
KEEP_ALIVE_CONNECTIONS = 256
"""Idle keep-alive connections a listener keeps open. A run holds a client per principal and
service (some 230), each with its own connection; past cheroot's default of 10 the server
closed each connection after its response, so most requests paid a new TLS handshake."""


class _Gateway(wsgi.Gateway_10):
    """cheroot's WSGI environ plus what moto reads from werkzeug's: the request target as it
    arrived (``RAW_URI``: an S3 key may hold an encoded slash) and the original spelling of
    headers with underscores (S3 metadata keys may contain them).

    A chunked body is read to its end, trailers included, before the connection serves its
    next request: botocore sends S3 puts chunked with a checksum trailer, and cheroot leaves
    the trailer on the connection, where it stalled the next request until a timeout.

    The status line and headers go out in one write with the body's first chunk: cheroot
    wrote them apart, and each write over TLS is a record of its own, encrypted and sent here
    and read and decrypted by the client (a write and two reads fewer per request, some
    50 us of CPU). The bytes on the wire are the same.
    """

    def respond(self) -> Any:
        try:
            return super().respond()
        finally:
            if self.req.chunked_read:
                _drain(self.req.rfile)

    def write(self, chunk: bytes) -> None:
        request = self.req
        if request.sent_headers:
            super().write(chunk)
            return
        connection = request.conn
        wfile, held = connection.wfile, _Held()
        connection.wfile = held
        try:
            super().write(chunk)
        finally:
            connection.wfile = wfile
            if held.parts:
                wfile.write(b"".join(held.parts))

    def get_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environ()
        environ["RAW_URI"] = environ["REQUEST_URI"]
        names: dict[str, str] = {}
        for raw_name, raw_value in self.req.inheaders.items():
            name = raw_name.decode("latin-1")
            if should_preserve_original_header_name(name):
                key = environ_key_for_header(name)
                names.setdefault(key, name)
                environ[key] = raw_value.decode("latin-1")
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
        return environ


class _Held:
    """A connection's writer standing in for cheroot's while a response's head is written:
    it keeps what it is given, for one write of head and body."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)


def _drain(body: Any) -> None:
    """Read what is left of a chunked body, then its trailer lines."""
    while body.read(65536):
        pass
    for _trailer in body.read_trailer_lines():
        pass


class MotoDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend a host name belongs to: moto lists its
    modules on disk again for every request to find out."""

    def __init__(self) -> None:
        super().__init__(create_backend_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


def _tls_adapter(tls: TlsMaterial) -> BuiltinSSLAdapter:
    """cheroot's TLS adapter, serving the certificate alone.

    cheroot reads the certificate back over a loopback handshake when it makes the adapter,
    through a context loaded with the system's trust store unless the CA is named as the
    chain: ~25 ms of CPU per listener (the adapter: 28 ms against 3). Named so, the CA is also
    in the context that serves, and OpenSSL then sends it with the certificate in every
    handshake, ~0.7 ms more CPU per connection (a run opens hundreds). The adapter serves
    through a context of its own, holding the certificate and key alone."""
    adapter = BuiltinSSLAdapter(str(tls.cert), str(tls.key), certificate_chain=str(tls.ca_bundle))
    serving = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    serving.load_cert_chain(str(tls.cert), str(tls.key))
    adapter.context = serving
    return adapter


class Listener:
    """One threaded WSGI server on a loopback port (0: a free one)."""

    def __init__(self, app: Any, tls: TlsMaterial | None = None, port: int = 0) -> None:
        self._server = wsgi.Server(
            (HOST, port),
            app,
            numthreads=WORKERS,
            server_name=HOST,
            shutdown_timeout=bound("stop"),
        )
        self._server.gateway = _Gateway
        self._server.expiration_interval = SELECT_INTERVAL_S
        self._server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
        if tls is not None:
            self._server.ssl_adapter = _tls_adapter(tls)
        self._server.prepare()
        port = self._server.bind_addr[1]
        self.url = f"{'https' if tls else 'http'}://{HOST}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve, name=f"listener-{self.url}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.stop()
        self._thread.join(bound("stop"))
