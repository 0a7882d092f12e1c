"""The JSON 1.1 wire protocol for the services the local target answers itself (CodePipeline,
CodeCommit): inputs checked against botocore's model, results and errors in the shapes boto3
parses (timestamps as epoch seconds, errors as ``{"__type", "message"}``)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from botocore.model import ServiceModel
from botocore.validate import ParamValidator

from harness.targets.local.gateway import ServedCall, WsgiApp

Handler = Callable[[ServedCall, dict[str, Any]], dict[str, Any]]


class ServiceError(Exception):
    """An error the service answers with: ``code`` is the exception shape's name."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialize {type(value).__name__}")


def respond(status: int, payload: Mapping[str, Any], json_version: str = "1.1") -> WsgiApp:
    """A WSGI app answering ``payload`` as a JSON-protocol body."""
    body = json.dumps(payload, default=_encode).encode()
    headers = [
        ("Content-Type", f"application/x-amz-json-{json_version}"),
        ("Content-Length", str(len(body))),
    ]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    return app


def dispatch(
    served: ServedCall, model: ServiceModel, handlers: Mapping[str, Handler]
) -> WsgiApp | None:
    """Answer ``served`` with its handler, or None (moto answers) if there is none."""
    handler = handlers.get(served.call.operation)
    if handler is None:
        return None
    params = served.call.params
    shape = model.operation_model(served.call.operation).input_shape
    report = ParamValidator().validate(params, shape) if shape is not None else None
    try:
        if report is not None and report.has_errors():
            raise ServiceError("ValidationException", report.generate_report())
        return respond(200, handler(served, params))
    except ServiceError as error:
        return respond(error.status, {"__type": error.code, "message": error.message})
