"""Query-protocol XML answers written from botocore's output shapes, so boto3 parses exactly
the members the model names (lists as ``member`` elements, maps as ``entry``/``key``/
``value``, booleans as ``true``/``false``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from harness.gateway.request_ids import new_request_id, request_id_headers
from harness.targets.local.services.wire import Answer


def _element(name: str, shape: Shape, value: Any) -> str:
    if shape.type_name == "structure":
        inner = "".join(
            _element(member.serialization.get("name", key), member, value[key])
            for key, member in shape.members.items()
            if value.get(key) is not None
        )
    elif shape.type_name == "list":
        item = shape.member.serialization.get("name", "member")
        inner = "".join(_element(item, shape.member, entry) for entry in value)
    elif shape.type_name == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        inner = "".join(
            "<entry>"
            + _element(key_name, shape.key, key)
            + _element(value_name, shape.value, item)
            + "</entry>"
            for key, item in value.items()
        )
    elif shape.type_name == "boolean":
        inner = "true" if value else "false"
    else:
        inner = escape(str(value))
    return f"<{name}>{inner}</{name}>"


def query_answer(operation: OperationModel, result: Mapping[str, Any]) -> Answer:
    """``result`` (boto3's member names) as the operation's response, with a request id where
    AWS puts it (the gateway replaces it with the id it logged the request's decisions by)."""
    request_id = new_request_id()
    namespace = operation.service_model.metadata.get("xmlNamespace", "")
    wrapper = operation.output_shape.serialization.get("resultWrapper", f"{operation.name}Result")
    body = (
        f'<{operation.name}Response xmlns="{escape(namespace)}">'
        + _element(wrapper, operation.output_shape, result)
        + f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        + f"</{operation.name}Response>"
    )
    headers = (("Content-Type", "text/xml"), *request_id_headers("query", request_id))
    return Answer(200, body.encode(), headers)
