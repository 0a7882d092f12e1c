"""Map a signed HTTP request to the AWS service operation it calls, and its input parameters.

Everything comes from botocore's service models: the service from the SigV4 signing name, the
operation from ``X-Amz-Target`` (JSON), the Smithy RPCv2 path (CBOR), ``Action`` (query) or the
``http.method`` + ``requestUri`` templates (REST), and the parameters from each member's
``location``/``locationName``. Parameters are keyed by the model's member names, so the same
names that boto3 users pass reach the authorization mapper.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape
from botocore.parsers import BaseCBORParser, ResponseParserError, RestXMLParser

from harness import service_models
from harness.gateway.errors import WireProtocol
from harness.gateway.sigv4 import header, query_pairs, raw_path

_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_CBOR_PATH = re.compile(r"^/service/(?P<service>[^/]+)/operation/(?P<operation>[^/]+)$")
_METADATA_HEAD_CHARS = 16384


class UnknownOperationError(LookupError):
    """No operation of the signing service matches the request.

    ``protocol`` is the best guess of the wire protocol, so the caller can still answer in the
    shape the client parses.
    """

    def __init__(self, message: str, protocol: WireProtocol) -> None:
        super().__init__(message)
        self.protocol = protocol


@dataclass(frozen=True)
class OperationCall:
    """One identified API call: which service and operation, with its input parameters."""

    service_name: str  # botocore's name, e.g. "stepfunctions"
    signing_name: str  # SigV4 signing name, e.g. "states"; also the usual IAM prefix
    operation: str  # e.g. "CreateStateMachine"
    protocol: WireProtocol
    region: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _RestRoute:
    operation: OperationModel
    method: str
    path: re.Pattern[str]
    labels: tuple[tuple[str, str], ...]  # (regex group, member name)
    literal_query: tuple[tuple[str, str | None], ...]
    literal_chars: int


def _convert_scalar(shape: Shape, text: str) -> Any:
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if shape.type_name in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return text
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


def _compile_route(operation: OperationModel) -> _RestRoute:
    path_template, _, query_template = operation.http["requestUri"].partition("?")
    pattern, labels, literal_chars = "", [], 0
    for index, piece in enumerate(re.split(r"(\{[^}]+\})", path_template)):
        if piece.startswith("{"):
            name = piece[1:-1]
            group = f"g{index}"
            if name.endswith("+"):
                pattern += f"(?P<{group}>.+)"
                name = name[:-1]
            else:
                pattern += f"(?P<{group}>[^/]+)"
            labels.append((group, name))
        else:
            pattern += re.escape(piece)
            literal_chars += len(piece)
    if not pattern.endswith("/"):
        pattern += "/?"
    literal_query = tuple(
        (name, value if sep else None)
        for name, sep, value in (p.partition("=") for p in query_template.split("&") if p)
    )
    return _RestRoute(
        operation=operation,
        method=operation.http.get("method", "POST").upper(),
        path=re.compile(f"^{pattern}$"),
        labels=tuple(labels),
        literal_query=literal_query,
        literal_chars=literal_chars,
    )


def _located_members(shape: StructureShape | None, location: str) -> dict[str, Shape]:
    if shape is None:
        return {}
    return {
        name: member
        for name, member in shape.members.items()
        if member.serialization.get("location") == location
    }


def _present(pairs: Mapping[str, str], key: str) -> bool:
    return key in pairs or any(k.startswith(key + ".") for k in pairs)


def _from_query(shape: Shape, prefix: str, pairs: Mapping[str, str]) -> Any:
    """Deserialize the ``query`` protocol's flattened ``A.member.1.B=…`` form by the model."""
    if shape.type_name == "structure":
        assert isinstance(shape, StructureShape)
        result = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            key = f"{prefix}.{wire}" if prefix else wire
            if _present(pairs, key):
                result[name] = _from_query(member, key, pairs)
        return result
    if shape.type_name == "list":
        flattened = shape.serialization.get("flattened", False)
        item_name = shape.member.serialization.get("name", "member")
        base = prefix if flattened else f"{prefix}.{item_name}"
        items, index = [], 1
        while _present(pairs, f"{base}.{index}"):
            items.append(_from_query(shape.member, f"{base}.{index}", pairs))
            index += 1
        return items
    if shape.type_name == "map":
        flattened = shape.serialization.get("flattened", False)
        base = prefix if flattened else f"{prefix}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        result, index = {}, 1
        while _present(pairs, f"{base}.{index}"):
            entry = f"{base}.{index}"
            result[pairs.get(f"{entry}.{key_name}", "")] = _from_query(
                shape.value, f"{entry}.{value_name}", pairs
            )
            index += 1
        return result
    return _convert_scalar(shape, pairs.get(prefix, ""))


def _rename_top_level(shape: StructureShape | None, body: Any) -> dict[str, Any]:
    """JSON bodies use ``locationName`` where the model sets one; key them by member name."""
    if not isinstance(body, dict):
        return {}
    if shape is None:
        return dict(body)
    wire_to_member = {
        member.serialization.get("name", name): name
        for name, member in shape.members.items()
        if member.serialization.get("location") is None
    }
    return {wire_to_member.get(key, key): value for key, value in body.items()}


def _decode_body(body: bytes, decode: Callable[[bytes], Any]) -> Any:
    """A JSON or CBOR body, or ``{}`` when empty or malformed: the operation is still known,
    and the service behind the gateway reports the malformed body itself."""
    if not body.strip():
        return {}
    try:
        return decode(body)
    except (ValueError, ResponseParserError):
        return {}


def _rest_json_body(shape: StructureShape, body: bytes) -> dict[str, Any]:
    """Members a rest-json request carries in its body; a raw (blob) payload is left out."""
    payload = shape.serialization.get("payload")
    if payload is not None and shape.members[payload].type_name != "structure":
        return {}
    parsed = _decode_body(body, json.loads)
    return {payload: parsed} if payload is not None else _rename_top_level(shape, parsed)


def _rest_xml_body(shape: StructureShape, body: bytes) -> dict[str, Any]:
    """The payload of a rest-xml request: a structure (PutObjectTagging's tag set,
    PutPublicAccessBlock's settings, an ACL) read with botocore's own XML parser, or a text
    (PutBucketPolicy's policy); nothing for bytes (an object's) or a body that is not XML."""
    payload = shape.serialization.get("payload")
    kind = shape.members[payload].type_name if payload is not None else None
    if payload is not None and kind == "string":
        return {payload: body.decode("utf-8", errors="replace")}
    if payload is None or kind != "structure":
        return {}
    response = {"body": body, "headers": {}, "status_code": 200}
    parsed = _decode_body(body, lambda _: RestXMLParser().parse(response, shape))
    return {payload: parsed[payload]} if payload in parsed else {}


def _read_metadata(loader: Any, service: str) -> dict[str, Any]:
    """A service model's ``metadata`` without parsing the whole (often megabyte) model.

    Indexing every service by signing name this way takes well under a second; loading every
    model would take several. Falls back to the full load if the file layout is unexpected.
    """
    version = loader.determine_latest_version(service, "service-2")
    for root in loader.search_paths:
        for suffix in (".json.gz", ".json"):
            path = Path(root, service, version, "service-2" + suffix)
            if not path.is_file():
                continue
            opener = gzip.open if suffix.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as handle:
                head = handle.read(_METADATA_HEAD_CHARS)
            start = head.find('"metadata"')
            if start >= 0:
                try:
                    metadata, _ = json.JSONDecoder().raw_decode(head, head.index("{", start))
                    return metadata
                except ValueError:
                    break
    return loader.load_service_model(service, "service-2")["metadata"]


class OperationMapper:
    """Identify operations of any botocore service; models are loaded once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_signing_name: dict[str, list[tuple[str, str]]] | None = None
        self._routes: dict[str, list[_RestRoute]] = {}
        self._wire_names: dict[str, dict[str, OperationModel]] = {}

    def _signing_index(self) -> dict[str, list[tuple[str, str]]]:
        """signing name -> [(service name, endpoint prefix)], built once from the models."""
        with self._lock:
            if self._by_signing_name is None:
                loader = service_models.loader()
                index: dict[str, list[tuple[str, str]]] = {}
                for service in loader.list_available_services("service-2"):
                    metadata = _read_metadata(loader, service)
                    prefix = metadata["endpointPrefix"]
                    signing = metadata.get("signingName") or prefix
                    index.setdefault(signing, []).append((service, prefix))
                self._by_signing_name = index
            return self._by_signing_name

    def service_model(self, service_name: str) -> ServiceModel:
        """The process's one model of the service (the clients' loader read it)."""
        return service_models.service_model(service_name)

    def services_for(
        self, signing_name: str, host: str | None = None, account_header: bool = False
    ) -> list[str]:
        """botocore service names that sign as ``signing_name``, most likely first.

        Several services share a signing name (``sagemaker`` and ``sagemaker-runtime``); a
        host naming an endpoint prefix (``runtime.sagemaker.<region>…``) puts that service
        first, then the service named like the signing name. S3 Control signs as ``s3`` and
        its host starts with the account id; an ``x-amz-account-id`` header
        (``account_header``), which every S3 Control call and no S3 call carries, puts it
        first even where the host is the target's own.
        """
        hostname = (host or "").rsplit(":", 1)[0].lower()
        candidates = sorted(
            self._signing_index().get(signing_name, []),
            key=lambda item: (
                not (account_header and item[0] == "s3control"),
                not hostname.startswith(item[1] + "."),
                item[0] != signing_name,
            ),
        )
        return [service for service, _ in candidates]

    def _routes_for(self, model: ServiceModel) -> list[_RestRoute]:
        with self._lock:
            routes = self._routes.get(model.service_name)
        if routes is None:
            routes = [_compile_route(model.operation_model(name)) for name in model.operation_names]
            with self._lock:
                self._routes[model.service_name] = routes
        return routes

    @staticmethod
    def _protocol(model: ServiceModel, name: str) -> WireProtocol:
        return WireProtocol(
            name=name,
            xml_namespace=model.metadata.get("xmlNamespace"),
            json_version=model.metadata.get("jsonVersion"),
        )

    def identify(
        self, environ: Mapping[str, Any], body: bytes, signing_name: str, region: str
    ) -> OperationCall:
        """The operation a request calls, or :class:`UnknownOperationError`."""
        services = self.services_for(
            signing_name,
            header(environ, "Host"),
            account_header=header(environ, "x-amz-account-id") is not None,
        )
        form = self._form_pairs(environ, body)
        for service in services:
            model = self.service_model(service)
            found = self._match(model, environ, body, form)
            if found is not None:
                operation, protocol, params = found
                return OperationCall(
                    service_name=service,
                    signing_name=signing_name,
                    operation=operation.name,
                    protocol=protocol,
                    region=region,
                    params=params,
                )
        guess = self._guess_protocol(environ, form, services)
        raise UnknownOperationError(
            f"no operation of {signing_name!r} matches {environ.get('REQUEST_METHOD')} "
            f"{raw_path(environ)}",
            guess,
        )

    def _guess_protocol(
        self, environ: Mapping[str, Any], form: dict[str, str], services: list[str]
    ) -> WireProtocol:
        model = self.service_model(services[0]) if services else None
        if header(environ, "smithy-protocol"):
            name = "smithy-rpc-v2-cbor"
        elif header(environ, "X-Amz-Target"):
            name = "json"
        elif "Action" in form:
            name = "query"
        elif model is not None:
            name = model.resolved_protocol
        else:
            name = "rest-xml"
        return self._protocol(model, name) if model is not None else WireProtocol(name)

    @staticmethod
    def _form_pairs(environ: Mapping[str, Any], body: bytes) -> dict[str, str]:
        pairs = dict(query_pairs(environ.get("QUERY_STRING", "")))
        content_type = header(environ, "Content-Type") or ""
        if content_type.startswith(_FORM_CONTENT_TYPE):
            text = body.decode("utf-8", errors="replace").replace("+", "%20")
            pairs.update(query_pairs(text))
        return pairs

    def _match(
        self,
        model: ServiceModel,
        environ: Mapping[str, Any],
        body: bytes,
        form: dict[str, str],
    ) -> tuple[OperationModel, WireProtocol, dict[str, Any]] | None:
        protocols = model.metadata.get("protocols") or [model.protocol]
        target = header(environ, "X-Amz-Target")
        if header(environ, "smithy-protocol") and "smithy-rpc-v2-cbor" in protocols:
            return self._match_cbor(model, environ, body)
        if target and "json" in protocols:
            prefix, _, wire_name = target.rpartition(".")
            if prefix != model.metadata.get("targetPrefix"):
                return None
            operation = self._by_wire_name(model, wire_name)
            if operation is None:
                return None
            params = _rename_top_level(operation.input_shape, _decode_body(body, json.loads))
            return operation, self._protocol(model, "json"), params
        if "query" in protocols and "Action" in form:
            operation = self._by_wire_name(model, form["Action"])
            if operation is None:
                return None
            shape = operation.input_shape
            params = _from_query(shape, "", form) if shape is not None else {}
            return operation, self._protocol(model, "query"), params
        rest = next((p for p in protocols if p.startswith("rest-")), None)
        if rest is None:
            return None
        return self._match_rest(model, rest, environ, body)

    def _by_wire_name(self, model: ServiceModel, wire_name: str) -> OperationModel | None:
        """The operation called ``wire_name`` on the wire, from an index of the model built
        once: a scan of every operation cost each IAM request some 70 us (170 operations)."""
        with self._lock:
            index = self._wire_names.get(model.service_name)
        if index is None:
            index = {}
            for name in model.operation_names:
                operation = model.operation_model(name)
                index.setdefault(operation.wire_name, operation)
            with self._lock:
                self._wire_names[model.service_name] = index
        return index.get(wire_name)

    def _match_cbor(
        self, model: ServiceModel, environ: Mapping[str, Any], body: bytes
    ) -> tuple[OperationModel, WireProtocol, dict[str, Any]] | None:
        match = _CBOR_PATH.match(raw_path(environ))
        if match is None or unquote(match["service"]) != model.metadata.get("targetPrefix"):
            return None
        operation = self._by_wire_name(model, unquote(match["operation"]))
        if operation is None:
            return None
        parser = BaseCBORParser()
        parsed = _decode_body(
            body, lambda data: parser.parse_data_item(parser.get_peekable_stream_from_bytes(data))
        )
        params = _rename_top_level(operation.input_shape, parsed)
        return operation, self._protocol(model, "smithy-rpc-v2-cbor"), params

    def _match_rest(
        self, model: ServiceModel, protocol: str, environ: Mapping[str, Any], body: bytes
    ) -> tuple[OperationModel, WireProtocol, dict[str, Any]] | None:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = raw_path(environ)
        query = query_pairs(environ.get("QUERY_STRING", ""))
        query_keys = {name for name, _ in query}
        query_map = dict(query)
        best: tuple[tuple[int, int, int], _RestRoute, dict[str, str]] | None = None
        for route in self._routes_for(model):
            if route.method != method:
                continue
            match = route.path.match(path)
            if match is None:
                continue
            if any(
                name not in query_keys or (value is not None and query_map.get(name) != value)
                for name, value in route.literal_query
            ):
                continue
            score = self._required_members_score(route.operation, environ, query_keys)
            if score is None:
                continue
            rank = (len(route.literal_query), score, route.literal_chars)
            if best is None or rank > best[0]:
                labels = {member: unquote(match[group]) for group, member in route.labels}
                best = (rank, route, labels)
        if best is None:
            return None
        _, route, labels = best
        params = self._rest_params(route.operation, protocol, environ, body, labels, query)
        return route.operation, self._protocol(model, protocol), params

    @staticmethod
    def _required_members_score(
        operation: OperationModel, environ: Mapping[str, Any], query_keys: set[str]
    ) -> int | None:
        """How many required query/header members the request carries; None if one is absent.

        This is what tells PutObject from CopyObject (``x-amz-copy-source``) or UploadPart
        (``partNumber``, ``uploadId``), which share a method and a URI template.
        """
        shape = operation.input_shape
        if shape is None:
            return 0
        score = 0
        for name in shape.required_members:
            member = shape.members[name]
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "querystring":
                present = wire in query_keys
            elif location == "header":
                present = header(environ, wire) is not None
            else:
                continue
            if not present:
                return None
            score += 1
        return score

    @staticmethod
    def _rest_params(
        operation: OperationModel,
        protocol: str,
        environ: Mapping[str, Any],
        body: bytes,
        labels: dict[str, str],
        query: list[tuple[str, str]],
    ) -> dict[str, Any]:
        shape = operation.input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = {}
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "uri" and name in labels:
                params[name] = _convert_scalar(member, labels[name])
            elif location == "querystring":
                values = [value for key, value in query if key == wire]
                if values and member.type_name == "list":
                    params[name] = [_convert_scalar(member.member, v) for v in values]
                elif values:
                    params[name] = _convert_scalar(member, values[0])
            elif location == "header":
                value = header(environ, wire)
                if value is not None:
                    params[name] = _convert_scalar(member, value)
            elif location == "headers":
                prefix = "HTTP_" + wire.upper().replace("-", "_")
                found = {
                    key[len(prefix) :].lower().replace("_", "-"): value
                    for key, value in environ.items()
                    if key.startswith(prefix)
                }
                if found:
                    params[name] = found
        if protocol == "rest-json" and body:
            params.update(_rest_json_body(shape, body))
        elif protocol == "rest-xml" and body:
            params.update(_rest_xml_body(shape, body))
        return params
