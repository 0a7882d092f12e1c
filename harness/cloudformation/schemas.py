"""What CloudFormation's resource schemas (as bundled with cfn-lint) say about a type: which
properties exist, which force replacement, which attributes GetAtt may read."""

from __future__ import annotations

import re
from functools import cache, reduce
from operator import getitem
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

SCHEMA_REGION = "us-east-1"


@cache
def _schema(type_name: str) -> dict | None:
    try:
        return PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, type_name).schema
    except ResourceNotFoundError:
        return None


def is_known_type(type_name: str) -> bool:
    """True for any type CloudFormation publishes a schema for (supported locally or not)."""
    return _schema(type_name) is not None


def _top_level(pointers: list[str] | None) -> frozenset[str]:
    """Names of whole top-level properties; nested pointers (`/properties/A/B`) are ignored."""
    return frozenset(
        parts[2] for parts in (p.split("/") for p in pointers or []) if len(parts) == 3
    )


def properties(type_name: str) -> frozenset[str]:
    """Properties a template may set (read-only ones excluded)."""
    schema = _schema(type_name) or {}
    return frozenset(schema.get("properties", {})) - read_only_properties(type_name)


def read_only_properties(type_name: str) -> frozenset[str]:
    """Top-level read-only properties: the attributes `Fn::GetAtt` may read."""
    return _top_level((_schema(type_name) or {}).get("readOnlyProperties"))


def create_only_properties(type_name: str) -> frozenset[str]:
    """Properties whose change makes CloudFormation replace the resource."""
    return _top_level((_schema(type_name) or {}).get("createOnlyProperties"))


def required_properties(type_name: str) -> frozenset[str]:
    """Properties the schema requires."""
    return frozenset((_schema(type_name) or {}).get("required", []))


def coerce(type_name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Scalars as the schema types them: CloudFormation turns "true" or "3600" (from
    parameters, Sub, If) into booleans and numbers before a handler sees them."""
    schema = _schema(type_name)
    if schema is None:
        return properties
    return _coerce(schema, {"properties": schema.get("properties", {})}, properties)


def _resolve_ref(root: dict, node: dict) -> dict:
    while "$ref" in node:
        node = reduce(getitem, node["$ref"].removeprefix("#/").split("/"), root)
    return node


def _coerce(root: dict, node: dict, value: Any) -> Any:
    node = _resolve_ref(root, node)
    kinds = node.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if isinstance(value, str) and "string" not in kinds:
        if "boolean" in kinds and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if ("integer" in kinds or "number" in kinds) and re.fullmatch(r"-?\d+", value):
            return int(value)
        if "number" in kinds and re.fullmatch(r"-?\d*\.\d+", value):
            return float(value)
    if isinstance(value, dict) and "properties" in node:
        members = node["properties"]
        return {k: _coerce(root, members[k], v) if k in members else v for k, v in value.items()}
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        return [_coerce(root, node["items"], item) for item in value]
    return value
