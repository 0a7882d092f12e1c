"""The tests' loopback servers, each served from a thread and stopped without idling.

``serve_forever`` looks for a stop request once per poll, every 0.5 s by default, and
``shutdown()`` waits for that look: moto's ``ThreadedMotoServer`` and the fixtures' own
servers each left their worker idle up to 0.5 s at every stop (the session-scoped ones at
the end of a worker's run, where nothing else runs beside them)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

POLL_S = 0.05


class NoDelayHandler(WSGIRequestHandler):
    """werkzeug's handler without Nagle's algorithm: it writes a response in several small
    writes (the head, then each chunk's size, data and end), and each write after the first
    waited for the client's delayed ACK, 40 ms, on every request of a kept-alive connection
    after its first (the local target's cheroot sets TCP_NODELAY itself)."""

    disable_nagle_algorithm = True


@contextmanager
def served(server: socketserver.BaseServer) -> Iterator[None]:
    """``server`` serving from a daemon thread while the context lasts, then closed."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_S}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def moto_server(tls: tuple[str, str] | None = None) -> BaseWSGIServer:
    """moto's server app on a free loopback port, as ``ThreadedMotoServer`` builds it; over
    HTTPS with ``tls`` (certificate and key files)."""
    app = DomainDispatcherApplication(create_backend_app)
    return make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler, ssl_context=tls
    )
