"""What CloudFormation's resource schemas (as bundled with cfn-lint) say about a type: which
properties exist, which force replacement, which attributes GetAtt may read.

Importing cfnlint costs ~0.9 s of CPU (sympy, networkx), paid by every harness process, so the
schemas are copied once per cfn-lint version into a per-user cache file that a process reads
instead; cfnlint is imported only to build that file, never to download schemas."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from functools import cache, reduce
from importlib.metadata import version
from operator import getitem
from pathlib import Path
from typing import Any

SCHEMA_REGION = "us-east-1"
CACHE_DIR_VARIABLE = "HARNESS_CACHE_DIR"
"""Overrides the cache folder (`$XDG_CACHE_HOME/xacct-ml-harness` by default)."""

_MODULE = "Module"
_CUSTOM = "AWS::CloudFormation::CustomResource"


def cache_path() -> Path:
    """The cache file for the installed cfn-lint: its schemas change with its version."""
    folder = os.environ.get(CACHE_DIR_VARIABLE)
    if not folder:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        folder = os.path.join(base, "xacct-ml-harness")
    return Path(folder, f"resource-schemas-cfn-lint-{_cfn_lint()}-{SCHEMA_REGION}.json")


@cache
def _cfn_lint() -> str:
    """The installed cfn-lint's version, from its metadata: importing it is the cost avoided."""
    return version("cfn-lint")


@cache
def _schema_texts() -> dict[str, str]:
    """Each known type's schema as JSON text, decoded only when asked for (decoding all ~1900
    schemas costs ~0.3 s of CPU, reading the texts ~0.05 s). A missing, unreadable or corrupt
    cache file is rebuilt, never trusted."""
    path = cache_path()
    with contextlib.suppress(OSError, ValueError):
        return _read(path)
    texts = _build()
    _write(path, texts)
    return texts


def _read(path: Path) -> dict[str, str]:
    data = json.loads(path.read_bytes())
    if not (
        isinstance(data, dict)
        and data.get("cfn-lint") == _cfn_lint()
        and data.get("region") == SCHEMA_REGION
        and isinstance(data.get("schemas"), dict)
        and all(isinstance(text, str) for text in data["schemas"].values())
    ):
        raise ValueError(f"{path} is not a schema cache of this cfn-lint")
    return data["schemas"]


def _build() -> dict[str, str]:
    """Every type cfn-lint knows in SCHEMA_REGION, plus its one schema for all modules. cfn-lint
    downloads schemas when its bundled ones are missing; here that is an error instead."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER as manager
    from cfnlint.schema import ResourceNotFoundError

    def refuse_download(force: bool) -> int:
        raise RuntimeError(
            "cfn-lint has no bundled resource schemas; the harness never downloads them"
        )

    manager.update = refuse_download  # type: ignore[method-assign]
    try:
        texts = {}
        for name in [*manager.get_resource_types(SCHEMA_REGION), _MODULE]:
            with contextlib.suppress(ResourceNotFoundError):
                schema = manager.get_resource_schema(SCHEMA_REGION, name).schema
                texts[name] = json.dumps(schema, separators=(",", ":"))
        return texts
    finally:
        del manager.update


def _write(path: Path, texts: dict[str, str]) -> None:
    """Best effort, atomic: written beside the cache file, then renamed over it, so a concurrent
    reader sees a whole file or none; an unwritable folder only means building again."""
    data = {"cfn-lint": _cfn_lint(), "region": SCHEMA_REGION, "schemas": texts}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, separators=(",", ":"))
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)


@cache
def _schema(type_name: str) -> dict | None:
    """The schema cfn-lint gives `type_name`: every `Custom::` type shares the custom resource
    schema and every `::MODULE` type the module schema, as in cfn-lint."""
    if type_name.startswith("Custom::"):
        type_name = _CUSTOM
    elif type_name.endswith("::MODULE"):
        type_name = _MODULE
    text = _schema_texts().get(type_name)
    return None if text is None else json.loads(text)


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
