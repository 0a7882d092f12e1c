"""Serve a WSGI app on loopback in a background thread, over plain HTTP or HTTPS.

The local target runs two of these for the same gateway, so a request's transport is real and
``aws:SecureTransport`` can be evaluated rather than assumed.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import BaseWSGIServer, make_server

from harness.gateway.tls import TlsMaterial

HOST = "127.0.0.1"


class _QuietHandler(MotoRequestHandler):
    """moto's handler (keeps S3 metadata headers with underscores), without access logs."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """The decision log records what matters; per-request lines would only be noise."""


class Listener:
    """One threaded WSGI server on a free loopback port."""

    def __init__(self, app: Any, tls: TlsMaterial | None = None) -> None:
        context = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.cert, tls.key)
        self._server: BaseWSGIServer = make_server(
            HOST, 0, app, threaded=True, request_handler=_QuietHandler, ssl_context=context
        )
        self._server.daemon_threads = True
        self.url = f"{'https' if tls else 'http'}://{HOST}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"listener-{self.url}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
