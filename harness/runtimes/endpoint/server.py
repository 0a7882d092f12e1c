"""A loaded booster behind SageMaker's hosting contract, on its own loopback port."""

from __future__ import annotations

import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from harness.deadlines import bound
from harness.runtimes.endpoint.protocol import (
    Reply,
    RequestError,
    choose_accept,
    decode_csv,
    encode_predictions,
)

if TYPE_CHECKING:  # imported where a model serves: it costs a second at import
    import xgboost as xgb

LOG = logging.getLogger(__name__)
MAX_PAYLOAD = 6 * 1024 * 1024  # InvokeEndpoint's request limit


class ModelServer:
    """Serves `GET /ping` and `POST /invocations` for one booster on 127.0.0.1. An unhealthy
    one (a drill's stuck container) answers `/ping` with 503, as a server still loading."""

    def __init__(self, booster: xgb.Booster, healthy: bool = True) -> None:
        self._booster = booster
        self.healthy = healthy
        self._predict_lock = threading.Lock()  # Booster.predict is not thread-safe
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(bound("stop"))

    def invocations(self, body: bytes, content_type: str | None, accept: str | None) -> Reply:
        import xgboost as xgb  # loaded already: the booster this serves is one

        if not body:
            return Reply(HTTPStatus.NO_CONTENT)
        try:
            rows = decode_csv(body, content_type)
            response_type = choose_accept(accept)
            expected = self._booster.num_features()
            if rows.shape[1] != expected:
                raise RequestError(
                    HTTPStatus.BAD_REQUEST,
                    f"Unable to evaluate payload provided: {rows.shape[1]} features per row, "
                    f"the model takes {expected}",
                )
            with self._predict_lock:
                predictions = self._booster.predict(xgb.DMatrix(rows), validate_features=False)
        except RequestError as exc:
            return exc.reply()
        except xgb.core.XGBoostError as exc:
            message = f"Unable to evaluate payload provided: {exc}"
            return Reply(HTTPStatus.BAD_REQUEST, message.encode())
        return encode_predictions(predictions.tolist(), response_type)


def _handler_for(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The head and the body go out in two writes; with Nagle's algorithm on, the body
        # waited for the client's delayed ACK of the head: 40 ms on every request of a
        # kept-alive connection after its first.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if self.path == "/ping":
                ok = server.healthy
                self._send(Reply(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE))
            else:
                self._send(Reply(HTTPStatus.NOT_FOUND, b"not found"))

        def do_POST(self) -> None:
            if self.path != "/invocations":
                self._send(Reply(HTTPStatus.NOT_FOUND, b"not found"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_PAYLOAD:
                self.close_connection = True  # the body is left unread
                self._send(Reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"payload too large"))
                return
            body = self.rfile.read(length)
            headers = self.headers
            self._send(server.invocations(body, headers.get("Content-Type"), headers.get("Accept")))

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            LOG.debug("%s " + format, self.address_string(), *args)

    return Handler
