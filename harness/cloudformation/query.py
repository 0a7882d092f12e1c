"""The AWS query protocol both ways, driven by botocore's CloudFormation service model:
form fields -> request dict for an operation's input shape, and result dict -> the XML
response botocore parses."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.model import ServiceModel, Shape

from harness import service_models

XMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


def service_model() -> ServiceModel:
    """botocore's model of the CloudFormation API."""
    return service_models.service_model("cloudformation")


def _name(shape: Shape, member: str) -> str:
    return shape.members[member].serialization.get("name", member)


def parse(shape: Shape | None, form: Mapping[str, str], prefix: str = "") -> Any:
    """Decode query-protocol fields (`Parameters.member.1.ParameterKey=...`) for `shape`."""
    if shape is None:
        return {}
    if shape.type_name == "structure":
        result = {}
        for member, member_shape in shape.members.items():
            key = f"{prefix}.{_name(shape, member)}" if prefix else _name(shape, member)
            value = parse(member_shape, form, key)
            if value is not None:
                result[member] = value
        return result if result or not prefix else None
    if shape.type_name == "list":
        items = []
        for index in range(1, len(form) + 2):  # a member takes a field at least: it ends
            item = parse(shape.member, form, f"{prefix}.member.{index}")
            if item is None:
                break
            items.append(item)
        return items if items or f"{prefix}" in form else None
    if shape.type_name == "map":
        entries, index = {}, 1
        while f"{prefix}.entry.{index}.key" in form:
            entries[form[f"{prefix}.entry.{index}.key"]] = parse(
                shape.value, form, f"{prefix}.entry.{index}.value"
            )
            index += 1
        return entries or None
    if prefix not in form:
        return None
    text = form[prefix]
    if shape.type_name == "boolean":
        return text.lower() == "true"
    if shape.type_name in ("integer", "long"):
        return int(text)
    return text


def _fill(parent: ET.Element, shape: Shape, value: Any) -> None:
    if shape.type_name == "structure":
        for member, member_shape in shape.members.items():
            if member in value and value[member] is not None:
                _fill(ET.SubElement(parent, _name(shape, member)), member_shape, value[member])
    elif shape.type_name == "list":
        for item in value:
            _fill(ET.SubElement(parent, "member"), shape.member, item)
    elif shape.type_name == "map":
        for key, item in value.items():
            entry = ET.SubElement(parent, "entry")
            ET.SubElement(entry, "key").text = str(key)
            _fill(ET.SubElement(entry, "value"), shape.value, item)
    elif shape.type_name == "boolean":
        parent.text = "true" if value else "false"
    elif shape.type_name == "timestamp" and isinstance(value, datetime):
        parent.text = value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    else:
        parent.text = str(value)


def _document(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def response(operation: str, result: Mapping[str, Any]) -> bytes:
    """`<{Operation}Response><{Operation}Result>...` as botocore's query parser expects."""
    root = ET.Element(f"{operation}Response", xmlns=XMLNS)
    output = service_model().operation_model(operation).output_shape
    if output is not None:
        _fill(ET.SubElement(root, f"{operation}Result"), output, result)
    metadata = ET.SubElement(root, "ResponseMetadata")
    ET.SubElement(metadata, "RequestId").text = str(uuid.uuid4())
    return _document(root)


def error(code: str, message: str, sender: bool = True) -> bytes:
    """The query protocol's `ErrorResponse` document."""
    root = ET.Element("ErrorResponse", xmlns=XMLNS)
    detail = ET.SubElement(root, "Error")
    ET.SubElement(detail, "Type").text = "Sender" if sender else "Receiver"
    ET.SubElement(detail, "Code").text = code
    ET.SubElement(detail, "Message").text = message
    ET.SubElement(root, "RequestId").text = str(uuid.uuid4())
    return _document(root)
