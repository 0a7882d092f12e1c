"""Evaluation of intrinsic functions and conditions against parameters, pseudo parameters,
mappings and a `ResourceLookup` that answers Ref/GetAtt of resources (real or predicted)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.cloudformation.errors import ValidationError
from harness.cloudformation.parameters import BoundParameter

NO_VALUE = object()
"""What `Ref: AWS::NoValue` evaluates to; containers drop it."""

SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class ResourceLookup(Protocol):
    """Answers Ref and GetAtt for a resource of the template."""

    def ref(self, logical_id: str) -> Any: ...

    def get_att(self, logical_id: str, attribute: str) -> Any: ...


def sub_references(text: str) -> list[str]:
    """Variable names of an `Fn::Sub` string, without the `${!Literal}` escapes."""
    return [name.strip() for name in SUB_VARIABLE.findall(text) if not name.startswith("!")]


@dataclass
class Evaluator:
    """Evaluates template values; `path` arguments make every error name its location."""

    parameters: Mapping[str, BoundParameter]
    pseudo: Mapping[str, Any]
    mappings: Mapping[str, Any]
    condition_definitions: Mapping[str, Any]
    resources: Mapping[str, str]
    lookup: ResourceLookup
    exports: Mapping[str, str] = field(default_factory=dict)
    _conditions: dict[str, bool] = field(default_factory=dict)

    def condition(self, name: str, path: str = "Conditions") -> bool:
        """The (memoised) truth of a named condition."""
        if name not in self._conditions:
            if name not in self.condition_definitions:
                raise ValidationError(
                    f"Template format error: Unresolved condition {name} at {path}"
                )
            value = self._condition_value(self.condition_definitions[name], f"Conditions/{name}")
            self._conditions[name] = value
        return self._conditions[name]

    def _condition_value(self, value: Any, path: str) -> bool:
        if isinstance(value, dict) and list(value) == ["Condition"]:
            return self.condition(value["Condition"], path)
        result = self.evaluate(value, path)
        if isinstance(result, bool):
            return result
        if isinstance(result, str) and result.lower() in ("true", "false"):
            return result.lower() == "true"
        raise ValidationError(f"Template error: {path} must evaluate to a boolean")

    def evaluate(self, value: Any, path: str) -> Any:
        """Resolve all intrinsics in `value`; `NO_VALUE` entries are removed from containers."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                handler = _FUNCTIONS.get(key)
                if handler is not None:
                    return handler(self, argument, f"{path}/{key}")
            evaluated = {k: self.evaluate(v, f"{path}/{k}") for k, v in value.items()}
            return {k: v for k, v in evaluated.items() if v is not NO_VALUE}
        if isinstance(value, list):
            items = [self.evaluate(v, f"{path}/{i}") for i, v in enumerate(value)]
            return [v for v in items if v is not NO_VALUE]
        return value

    def ref(self, name: str, path: str) -> Any:
        """Value of `Ref: name`: a parameter, pseudo parameter or resource."""
        if not isinstance(name, str):
            raise ValidationError(f"Template error: {path} must name a parameter or resource")
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name].value
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.resources:
            return self.lookup.ref(name)
        raise ValidationError(
            f"Template format error: Unresolved resource dependencies [{name}] in the "
            f"Resources block of the template (at {path})"
        )

    def get_att(self, logical_id: str, attribute: str, path: str) -> Any:
        """Value of `Fn::GetAtt: [logical_id, attribute]`."""
        if logical_id not in self.resources:
            raise ValidationError(
                f"Template error: instance of Fn::GetAtt references undefined resource "
                f"{logical_id} (at {path})"
            )
        return self.lookup.get_att(logical_id, attribute)

    def text(self, value: Any, path: str) -> str:
        """Evaluate `value` and require a string (numbers and booleans are rendered)."""
        result = self.evaluate(value, path)
        if isinstance(result, bool):
            return str(result).lower()
        if isinstance(result, int | float):
            return str(result)
        if not isinstance(result, str):
            raise ValidationError(f"Template error: {path} must resolve to a string")
        return result


def _args(argument: Any, count: int, name: str, path: str) -> list[Any]:
    if not isinstance(argument, list) or len(argument) != count:
        raise ValidationError(f"Template error: {name} at {path} needs a list of {count} values")
    return argument


def _ref(ev: Evaluator, argument: Any, path: str) -> Any:
    return ev.ref(argument, path)


def _get_att(ev: Evaluator, argument: Any, path: str) -> Any:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    logical_id, attribute = _args(argument, 2, "Fn::GetAtt", path)
    return ev.get_att(logical_id, ev.text(attribute, path), path)


def _sub(ev: Evaluator, argument: Any, path: str) -> str:
    if isinstance(argument, list):
        text, variables = _args(argument, 2, "Fn::Sub", path)
        local = {k: ev.evaluate(v, f"{path}/{k}") for k, v in variables.items()}
    else:
        text, local = argument, {}
    if not isinstance(text, str):
        raise ValidationError(f"Template error: Fn::Sub at {path} needs a string")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        name = name.strip()
        if name in local:
            value = local[name]
        elif "." in name and name.split(".", 1)[0] in ev.resources:
            value = ev.get_att(*name.split(".", 1), path)
        else:
            value = ev.ref(name, path)
        if isinstance(value, list):
            raise ValidationError(f"Template error: ${{{name}}} at {path} is a list, not a string")
        return str(value).lower() if isinstance(value, bool) else str(value)

    return SUB_VARIABLE.sub(replace, text)


def _join(ev: Evaluator, argument: Any, path: str) -> str:
    delimiter, items = _args(argument, 2, "Fn::Join", path)
    values = ev.evaluate(items, path)
    if not isinstance(values, list):
        raise ValidationError(f"Template error: Fn::Join at {path} needs a list to join")
    return str(delimiter).join(ev.text(v, path) for v in values)


def _select(ev: Evaluator, argument: Any, path: str) -> Any:
    index, items = _args(argument, 2, "Fn::Select", path)
    position = int(ev.text(index, path))
    values = ev.evaluate(items, path)
    if not isinstance(values, list) or not 0 <= position < len(values):
        raise ValidationError(f"Template error: Fn::Select at {path} cannot select item {position}")
    return values[position]


def _split(ev: Evaluator, argument: Any, path: str) -> list[str]:
    delimiter, source = _args(argument, 2, "Fn::Split", path)
    return ev.text(source, path).split(str(delimiter))


def _if(ev: Evaluator, argument: Any, path: str) -> Any:
    name, when_true, when_false = _args(argument, 3, "Fn::If", path)
    chosen = when_true if ev.condition(name, path) else when_false
    return ev.evaluate(chosen, path)


def _equals(ev: Evaluator, argument: Any, path: str) -> bool:
    left, right = (ev.evaluate(v, path) for v in _args(argument, 2, "Fn::Equals", path))
    return _comparable(left) == _comparable(right)


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) if isinstance(value, int | float) else value


def _and(ev: Evaluator, argument: Any, path: str) -> bool:
    return all(ev._condition_value(v, path) for v in argument)


def _or(ev: Evaluator, argument: Any, path: str) -> bool:
    return any(ev._condition_value(v, path) for v in argument)


def _not(ev: Evaluator, argument: Any, path: str) -> bool:
    (value,) = _args(argument, 1, "Fn::Not", path)
    return not ev._condition_value(value, path)


def _find_in_map(ev: Evaluator, argument: Any, path: str) -> Any:
    if not isinstance(argument, list) or len(argument) not in (3, 4):
        raise ValidationError(f"Template error: Fn::FindInMap at {path} needs 3 values")
    name, top, second = (ev.text(v, path) for v in argument[:3])
    try:
        return ev.evaluate(ev.mappings[name][top][second], path)
    except KeyError:
        if len(argument) == 4 and isinstance(argument[3], dict) and "DefaultValue" in argument[3]:
            return ev.evaluate(argument[3]["DefaultValue"], path)
        raise ValidationError(
            f"Template error: Unable to get mapping for {name}::{top}::{second} (at {path})"
        ) from None


def _get_azs(ev: Evaluator, argument: Any, path: str) -> list[str]:
    region = ev.text(argument, path) or ev.pseudo["AWS::Region"]
    return [f"{region}{zone}" for zone in "abc"]


def _base64(ev: Evaluator, argument: Any, path: str) -> str:
    return base64.b64encode(ev.text(argument, path).encode()).decode()


def _import_value(ev: Evaluator, argument: Any, path: str) -> str:
    name = ev.text(argument, path)
    if name not in ev.exports:
        raise ValidationError(f"No export named {name} found.")
    return ev.exports[name]


_FUNCTIONS: dict[str, Callable[[Evaluator, Any, str], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Fn::Not": _not,
    "Fn::FindInMap": _find_in_map,
    "Fn::GetAZs": _get_azs,
    "Fn::Base64": _base64,
    "Fn::ImportValue": _import_value,
}

FUNCTION_NAMES = frozenset(_FUNCTIONS)
"""The intrinsic functions this engine evaluates."""
