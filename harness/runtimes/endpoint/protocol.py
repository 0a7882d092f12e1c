"""SageMaker XGBoost's inference contract: request decoding and response encoding.

Mirrors the 1.7 container's documented behaviour: `text/csv` rows of features (no label) in;
an empty body -> 204; an unsupported or unparsable content type -> 415; a payload the model
cannot score (wrong number of features) -> 400; an Accept it cannot produce -> 406; out comes
one probability per line for `text/csv`, or `{"predictions": [{"score": p}, ...]}` for JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus

import numpy as np

CSV = "text/csv"
JSON = "application/json"
ACCEPTS = (CSV, JSON)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer of the container."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain"


class RequestError(Exception):
    """The request cannot be served; carries the container's status code."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status

    def reply(self) -> Reply:
        return Reply(self.status, str(self).encode())


def media_type(header: str | None) -> str:
    """`text/csv; charset=utf-8` -> `text/csv`."""
    return (header or "").split(";")[0].strip().lower()


def decode_csv(body: bytes, content_type: str | None) -> np.ndarray:
    """Rows of float features; RequestError(415) when the content is not CSV we can read."""
    if media_type(content_type) != CSV:
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"Content-type {content_type or '(none)'} is not supported; use {CSV}",
        )
    try:
        lines = [line for line in body.decode("utf-8").strip().splitlines() if line.strip()]
        rows = [[float(value) for value in line.split(",")] for line in lines]
        return np.array(rows, dtype=float).reshape(len(rows), -1)
    except ValueError as exc:  # also UnicodeDecodeError and ragged rows
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"Loading csv data failed, please ensure data is in csv format: {exc}",
        ) from None


def choose_accept(header: str | None) -> str:
    """The response type: CSV unless JSON is asked for; RequestError(406) for anything else."""
    accept = media_type(header)
    if accept in ("", "*/*"):
        return CSV
    if accept not in ACCEPTS:
        raise RequestError(
            HTTPStatus.NOT_ACCEPTABLE,
            f"Accept type {accept} is not supported; use one of: {', '.join(ACCEPTS)}",
        )
    return accept


def encode_predictions(predictions: Sequence[float | list[float]], accept: str) -> Reply:
    """Predictions in the container's format for `accept`: one line (or JSON score) per row;
    a multi-class row is its class probabilities, comma-separated in CSV."""
    if accept == JSON:
        body = json.dumps({"predictions": [{"score": value} for value in predictions]})
    else:
        body = "".join(
            ",".join(map(str, value)) + "\n" if isinstance(value, list) else f"{value}\n"
            for value in predictions
        )
    return Reply(HTTPStatus.OK, body.encode(), accept)
