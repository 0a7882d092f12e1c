"""Read CloudFormation property values as policy checks need them.

Templates reach the checks in two shapes: checkov's (intrinsics as ``{"Fn::Sub": ...}``
dicts, plus ``__startline__``-style markers in every mapping) and cfn-lint's decoder (the
same intrinsics, no markers). Checks compare text, so intrinsics are rendered to
``${Name}`` tokens: an ARN built with ``!Sub`` or ``!Join`` keeps its literal parts visible
while the values only known at deploy time stay recognisably unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

UNKNOWN = "${?}"


def is_marker(key: object) -> bool:
    """True for checkov's bookkeeping keys (``__file__``, ``__startline__``, ...)."""
    return isinstance(key, str) and key.startswith("__") and key.endswith("__")


def strip_markers(value: Any) -> Any:
    """A copy of ``value`` without checkov's line-number markers."""
    if isinstance(value, dict):
        return {k: strip_markers(v) for k, v in value.items() if not is_marker(k)}
    if isinstance(value, list):
        return [strip_markers(v) for v in value]
    return value


def as_list(value: Any) -> list[Any]:
    """Policy grammar allows a scalar wherever it allows a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def render(value: Any) -> str:
    """Text of a value, with intrinsic functions reduced to ``${...}`` tokens."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        fields = {k: v for k, v in value.items() if not is_marker(k)}
        if len(fields) == 1:
            ((name, arg),) = fields.items()
            return _render_intrinsic(name, arg)
    return UNKNOWN


def _render_intrinsic(name: str, arg: Any) -> str:
    if name == "Ref":
        return "${" + render(arg) + "}"
    if name == "Fn::GetAtt":
        attribute = ".".join(render(a) for a in arg) if isinstance(arg, list) else render(arg)
        return "${" + attribute + "}"
    if name == "Fn::Sub":
        return _render_sub(arg)
    if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2:
        separator, parts = arg
        return render(separator).join(render(p) for p in as_list(parts))
    return UNKNOWN


def _render_sub(arg: Any) -> str:
    """``!Sub`` text, with variables given in its long form filled in where literal."""
    if isinstance(arg, str):
        return arg
    if isinstance(arg, list) and arg and isinstance(arg[0], str):
        text = arg[0]
        variables = arg[1] if len(arg) > 1 and isinstance(arg[1], dict) else {}
        for var, var_value in variables.items():
            if not is_marker(var):
                text = text.replace("${" + var + "}", render(var_value))
        return text
    return UNKNOWN


def is_token(text: str) -> bool:
    """True when ``text`` is one unresolved value (a Ref, a GetAtt, or unknown)."""
    return text.startswith("${") and text.endswith("}") and text.count("${") == 1


def strings(value: Any) -> Iterator[str]:
    """Every string leaf of a value (mapping values, list items, ``!Sub`` bodies)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if not is_marker(key):
                yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def as_document(value: Any) -> Any:
    """A policy or definition given inline or as a JSON string (rendered), parsed."""
    if isinstance(value, dict) and not _is_intrinsic(value):
        return strip_markers(value)
    text = render(value)
    try:
        return json.loads(text)
    except ValueError:
        return None


def _is_intrinsic(value: dict[str, Any]) -> bool:
    keys = [k for k in value if not is_marker(k)]
    return len(keys) == 1 and (keys[0] == "Ref" or keys[0].startswith("Fn::"))
