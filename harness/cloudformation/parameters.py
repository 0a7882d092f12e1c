"""Binding caller-supplied parameter values to a template's Parameters section, with the
checks (type, pattern, allowed values, lengths, bounds) and messages CloudFormation uses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.cloudformation.errors import ValidationError

MASK = "****"


@dataclass(frozen=True)
class BoundParameter:
    """A parameter's value as intrinsics see it (a string or, for list types, a list)."""

    value: str | list[str]
    raw: str
    no_echo: bool

    @property
    def shown(self) -> str:
        """The value as DescribeStacks and events may show it: NoEcho values are masked."""
        return MASK if self.no_echo else self.raw


def _is_list_type(type_name: str) -> bool:
    return type_name == "CommaDelimitedList" or type_name.startswith("List<")


def _check_number(name: str, text: str, spec: Mapping[str, Any]) -> None:
    try:
        number = float(text)
    except ValueError:
        raise ValidationError(f"Parameter '{name}' must be a number not '{text}'") from None
    if "MinValue" in spec and number < float(spec["MinValue"]):
        raise ValidationError(
            f"Parameter '{name}' must be a number not less than {spec['MinValue']}"
        )
    if "MaxValue" in spec and number > float(spec["MaxValue"]):
        raise ValidationError(
            f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}"
        )


def _check_item(name: str, text: str, spec: Mapping[str, Any], numeric: bool) -> None:
    """Apply the constraints CloudFormation checks on each (list item) value."""
    if numeric:
        _check_number(name, text, spec)
    pattern = spec.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), text) is None:
        detail = spec.get("ConstraintDescription") or f"must match pattern {pattern}"
        raise ValidationError(f"Parameter '{name}' {detail}")
    allowed = spec.get("AllowedValues")
    if allowed is not None and text not in [str(v) for v in allowed]:
        detail = spec.get("ConstraintDescription") or "must be one of AllowedValues"
        raise ValidationError(f"Parameter '{name}' {detail}")
    if "MinLength" in spec and len(text) < int(spec["MinLength"]):
        raise ValidationError(
            f"Parameter '{name}' must contain at least {spec['MinLength']} characters"
        )
    if "MaxLength" in spec and len(text) > int(spec["MaxLength"]):
        raise ValidationError(
            f"Parameter '{name}' must contain at most {spec['MaxLength']} characters"
        )


def _bind_one(name: str, spec: Mapping[str, Any], raw: str) -> BoundParameter:
    type_name = str(spec.get("Type", ""))
    if type_name.startswith("AWS::SSM::Parameter::Value<"):
        raise ValidationError(
            f"Parameter '{name}' has type {type_name}, which the local engine does not resolve"
        )
    no_echo = str(spec.get("NoEcho", "false")).lower() == "true"
    if _is_list_type(type_name):
        items = [item.strip() for item in raw.split(",")] if raw else []
        numeric = type_name == "List<Number>"
        for item in items:
            _check_item(name, item, spec, numeric)
        return BoundParameter(items, raw, no_echo)
    if type_name not in ("String", "Number") and not type_name.startswith("AWS::"):
        raise ValidationError(f"Template format error: Unrecognized parameter type: {type_name}")
    _check_item(name, raw, spec, type_name == "Number")
    return BoundParameter(raw, raw, no_echo)


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def bind_parameters(
    declared: Mapping[str, Mapping[str, Any]], given: Mapping[str, Any]
) -> dict[str, BoundParameter]:
    """Check `given` against `declared`; fill defaults; raise `ValidationError` naming the
    offending parameter as CloudFormation does."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValidationError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = sorted(n for n, s in declared.items() if n not in given and "Default" not in s)
    if missing:
        raise ValidationError(f"Parameters: [{', '.join(missing)}] must have values")
    bound = {}
    for name, spec in declared.items():
        raw = _as_text(given[name] if name in given else spec["Default"])
        bound[name] = _bind_one(name, spec, raw)
    return bound
