"""An endpoint's life: Creating -> InService, or Failed with the reason, then stopped.

The local target calls this when CreateEndpoint (or UpdateEndpoint) names a model: the model's
artifact is fetched with the model's execution role (an AccessDenied on the object or on the
key's Decrypt fails the endpoint, as on AWS), its image must be the pinned algorithm image, and
the booster is served on its own loopback port. The endpoint is InService once the server
answers its ping health check, as SageMaker's; Creating is bounded (``endpoint_start``) and a
container that never answers fails the endpoint naming the bound. Loading runs in a
background thread; the caller polls `state` or observes every change.
"""

from __future__ import annotations

import http.client
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from harness.deadlines import DeadlineExceeded, bound, poll
from harness.runtimes.aws import AwsAccess, describe_error
from harness.runtimes.endpoint.model import ModelLoadError, download_model, load_booster
from harness.runtimes.endpoint.server import ModelServer
from harness.runtimes.images import UnsupportedImageError, resolve_image

if TYPE_CHECKING:  # imported by the model loader, where a model is loaded
    import xgboost as xgb

LOG = logging.getLogger(__name__)
# Serving format named in data/algorithm_images.yaml -> how its model files are loaded.
LOADERS: dict[str, Callable[[Path], xgb.Booster]] = {"xgboost": load_booster}


@dataclass(frozen=True)
class ModelSpec:
    """What CreateModel recorded: PrimaryContainer's Image and ModelDataUrl, and the role."""

    image: str
    model_data_url: str
    execution_role_arn: str


@dataclass(frozen=True)
class EndpointState:
    """EndpointStatus and FailureReason as DescribeEndpoint shows them, plus where it serves."""

    status: str
    failure_reason: str | None = None
    url: str | None = None


EndpointObserver = Callable[[EndpointState], None]


class HostedEndpoint:
    """One endpoint's container. `start()` begins Creating; `stop()` shuts the server down."""

    def __init__(
        self,
        name: str,
        model: ModelSpec,
        access: AwsAccess,
        on_state: EndpointObserver | None = None,
        healthy: bool = True,
    ) -> None:
        self.name = name
        self.model = model
        self._access = access
        self._on_state = on_state
        self._healthy = healthy  # False: a drill's container that never passes /ping
        self._state = EndpointState("Creating")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ModelServer | None = None
        self._workdir = Path(tempfile.mkdtemp(prefix=f"endpoint-{name}-"))
        self._thread = threading.Thread(target=self._create, name=f"endpoint-{name}", daemon=True)

    @property
    def state(self) -> EndpointState:
        with self._lock:
            return self._state

    def start(self) -> HostedEndpoint:
        self._set(EndpointState("Creating"))
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> EndpointState:
        self._thread.join(timeout)
        return self.state

    def stop(self, bound_s: float | None = None) -> bool:
        """Shut the server down and drop the model files (DeleteEndpoint); False when its
        start is still running after the bound (it is left to end on its own)."""
        self._stopping.set()  # a health check still waiting gives up now
        if self._thread.ident is not None:  # started: let Creating finish first
            self._thread.join(bound("stop") if bound_s is None else bound_s)
            if self._thread.is_alive():
                return False
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)
        return True

    def _set(self, state: EndpointState) -> None:
        with self._lock:
            self._state = state
        if self._on_state is not None:
            self._on_state(state)

    def _create(self) -> None:
        began = time.monotonic()
        try:
            server = ModelServer(self._load(), healthy=self._healthy).start()
            with self._lock:
                self._server = server
            self._await_health(server, bound("endpoint_start"), began)
        except _EndpointFailure as failure:
            self._fail(str(failure))
            return
        except Exception as exc:  # a bug of ours must still end Creating, with its reason
            LOG.exception("endpoint %s crashed while creating", self.name)
            self._fail(f"InternalServerError: {describe_error(exc)}")
            return
        self._set(EndpointState("InService", url=server.url))

    def _await_health(self, server: ModelServer, bound_s: float, began: float) -> None:
        """Ping the container until it answers 200, within what is left of Creating's bound;
        a stop ends the wait at once."""
        what = f"endpoint {self.name} to pass its ping health check (GET /ping)"
        left = bound_s - (time.monotonic() - began)
        try:
            for _ in poll(what, max(left, 0.0), stop=self._stopping):
                if self._stopping.is_set():
                    raise _EndpointFailure("ClientError: the endpoint was deleted while Creating")
                if _answers_ping(server.url):
                    return
        except DeadlineExceeded:
            raise _EndpointFailure(
                "The primary container did not pass the ping health check: "
                f"{DeadlineExceeded(what, bound_s)}"
            ) from None

    def _fail(self, reason: str) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)  # nothing will be served from it
        self._set(EndpointState("Failed", reason))

    def _load(self) -> xgb.Booster:
        try:
            image = resolve_image(self.model.image, self._access.region)
        except UnsupportedImageError as exc:
            raise _EndpointFailure(f"ClientError: {exc}") from None
        loader = LOADERS.get(image.serving_format)
        if loader is None:
            raise _EndpointFailure(f"ClientError: {image.uri} cannot be served by this runtime")
        url = self.model.model_data_url
        try:
            model_dir = download_model(self._access, url, self._workdir)
            return loader(model_dir)
        except (ClientError, BotoCoreError, ValueError) as exc:
            raise _EndpointFailure(
                f"Failed to download model data from {url} as {self.model.execution_role_arn}: "
                f"{describe_error(exc)}"
            ) from None
        except ModelLoadError as exc:
            raise _EndpointFailure(f"ClientError: {exc}") from None


def _answers_ping(url: str) -> bool:
    """Whether the container at ``url`` answers ``GET /ping`` with 200 (one try, 1 s)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=1.0)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


class _EndpointFailure(Exception):
    """Creating ends Failed; the message is the FailureReason."""
