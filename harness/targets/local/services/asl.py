"""An Amazon States Language interpreter for the states this project's state machines use.

Why our own and not moto's: moto either fakes an execution's outcome or (with its execution
simulation switched on) runs an interpreter that calls moto's backends in-process, around the
enforcement gateway, so the state machine role's policy would never be consulted. Here every
Task goes through a ``TaskRunner`` that the Step Functions service wires to the gateway as
the state machine's role. The subset is small on purpose and anything outside it fails the
execution with ``States.Runtime`` naming what is unsupported, never silently:

- states: Task, Pass, Choice, Succeed, Fail;
- paths: InputPath, Parameters (``.$`` keys over ``$`` and the context object ``$$``),
  ResultSelector, ResultPath, OutputPath, with JSONPath ``$``, ``.name``, ``['name']``, ``[n]``;
- Catch on Task (ErrorEquals incl. ``States.ALL``, ResultPath); no Retry, Map, Parallel, Wait.
"""

from __future__ import annotations

import copy
import operator
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

TaskRunner = Callable[[str, Any], Any]  # (Resource ARN, effective parameters) -> result
Emit = Callable[[str, dict[str, Any]], None]  # (history event type, its details)

_STATE_FIELDS: Mapping[str, frozenset[str]] = {
    "Task": frozenset(
        {"Resource", "Parameters", "ResultSelector", "ResultPath", "Catch", "TimeoutSeconds"}
    ),
    "Pass": frozenset({"Result", "Parameters", "ResultPath"}),
    "Choice": frozenset({"Choices", "Default"}),
    "Succeed": frozenset(),
    "Fail": frozenset({"Error", "Cause"}),
}
_COMMON_FIELDS = frozenset({"Type", "Comment", "Next", "End", "InputPath", "OutputPath"})
_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]")


class StatesError(Exception):
    """A failure with an ASL error name (``States.TaskFailed``, ``SageMaker...``) and cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause


class ExecutionAborted(Exception):
    """StopExecution asked the interpreter to stop."""


def _steps(path: str) -> list[str | int]:
    if not path.startswith("$"):
        raise StatesError("States.Runtime", f"path {path!r} does not start with '$'")
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            raise StatesError("States.Runtime", f"unsupported JSONPath {path!r}")
        name, index, quoted = match.groups()
        steps.append(int(index) if index is not None else (name or quoted or ""))
        position = match.end()
    return steps


def read_path(path: str, data: Any, context: Any) -> Any:
    """The value at ``path`` (``$...`` in ``data``, ``$$...`` in the context object)."""
    root, path = (context, path[1:]) if path.startswith("$$") else (data, path)
    value = root
    for step in _steps(path):
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            raise StatesError(
                "States.Runtime", f"the JSONPath {path!r} could not be found in the input"
            ) from None
    return value


def _is_present(path: str, data: Any, context: Any) -> bool:
    try:
        read_path(path, data, context)
    except StatesError:
        return False
    return True


def write_path(path: str | None, data: Any, result: Any) -> Any:
    """ResultPath: ``result`` placed into a copy of ``data`` (``None`` discards the result)."""
    if path is None:
        return data
    steps = _steps(path)
    if not steps:
        return result
    output = copy.deepcopy(data)
    target = output
    for step in steps[:-1]:
        target = target.setdefault(step, {}) if isinstance(target, dict) else target[step]
    if not isinstance(target, dict):
        raise StatesError("States.ResultPathMatchFailure", f"cannot apply ResultPath {path!r}")
    target[steps[-1]] = result
    return output


def apply_template(template: Any, data: Any, context: Any) -> Any:
    """Parameters / ResultSelector: keys ending in ``.$`` take the value at their path."""
    if isinstance(template, dict):
        resolved = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str) or value.startswith("States."):
                    raise StatesError(
                        "States.Runtime", f"{key}: intrinsic functions are not supported"
                    )
                resolved[key[:-2]] = read_path(value, data, context)
            else:
                resolved[key] = apply_template(value, data, context)
        return resolved
    if isinstance(template, list):
        return [apply_template(item, data, context) for item in template]
    return template


_COMPARISONS: Mapping[str, Callable[[Any, Any], bool]] = {
    "StringEquals": operator.eq,
    "StringLessThan": operator.lt,
    "StringGreaterThan": operator.gt,
    "StringLessThanEquals": operator.le,
    "StringGreaterThanEquals": operator.ge,
    "NumericEquals": operator.eq,
    "NumericLessThan": operator.lt,
    "NumericGreaterThan": operator.gt,
    "NumericLessThanEquals": operator.le,
    "NumericGreaterThanEquals": operator.ge,
    "BooleanEquals": operator.eq,
}
_KINDS: Mapping[str, type | tuple[type, ...]] = {
    "String": str,
    "Numeric": (int, float),
    "Boolean": bool,
}


def _kind_matches(comparison: str, value: Any) -> bool:
    kind = next(k for k in _KINDS if comparison.startswith(k))
    if kind == "Numeric" and isinstance(value, bool):
        return False
    return isinstance(value, _KINDS[kind])


def choice_matches(rule: Mapping[str, Any], data: Any, context: Any) -> bool:
    """Evaluate one Choice rule (And/Or/Not, IsPresent/IsNull, the comparisons above and
    their ``...Path`` forms)."""
    if "And" in rule:
        return all(choice_matches(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(choice_matches(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not choice_matches(rule["Not"], data, context)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise StatesError("States.Runtime", f"Choice rule without Variable: {dict(rule)}")
    if "IsPresent" in rule:
        return _is_present(variable, data, context) == rule["IsPresent"]
    value = read_path(variable, data, context)
    if "IsNull" in rule:
        return (value is None) == rule["IsNull"]
    for name, expected in rule.items():
        comparison = name.removesuffix("Path")
        if comparison not in _COMPARISONS:
            continue
        if name.endswith("Path"):
            expected = read_path(expected, data, context)
        if not _kind_matches(comparison, value):
            return False
        return _COMPARISONS[comparison](value, expected)
    raise StatesError("States.Runtime", f"unsupported Choice rule {dict(rule)}")


def _error_matches(patterns: list[str], error: str) -> bool:
    if "States.ALL" in patterns:
        return error != "States.Runtime"  # runtime errors cannot be caught, as on AWS
    return error in patterns


def check_definition(definition: Mapping[str, Any]) -> None:
    """Raise StatesError for any state or field outside the supported subset."""
    states = definition.get("States")
    if not isinstance(states, dict) or definition.get("StartAt") not in states:
        raise StatesError("States.Runtime", "the definition has no StartAt state in States")
    for name, state in states.items():
        kind = state.get("Type")
        allowed = _STATE_FIELDS.get(kind)
        if allowed is None:
            raise StatesError(
                "States.Runtime", f"state {name}: Type {kind} is not supported by this target"
            )
        extra = set(state) - allowed - _COMMON_FIELDS
        if extra:
            raise StatesError(
                "States.Runtime",
                f"state {name}: {', '.join(sorted(extra))} not supported by this target",
            )


class Interpreter:
    """Runs one execution of a definition; ``emit`` receives its history events."""

    def __init__(
        self,
        definition: Mapping[str, Any],
        run_task: TaskRunner,
        emit: Emit,
        context: dict[str, Any],
        stopping: threading.Event,
    ) -> None:
        check_definition(definition)
        self._definition = definition
        self._run_task = run_task
        self._emit = emit
        self._context = context
        self._stopping = stopping

    def run(self, data: Any) -> Any:
        """The execution's output; StatesError when it fails, ExecutionAborted when stopped."""
        name: str | None = self._definition["StartAt"]
        states = self._definition["States"]
        while name is not None:
            if self._stopping.is_set():
                raise ExecutionAborted()
            state = states[name]
            self._context["State"] = {"Name": name}
            kind = state["Type"]
            self._emit(f"{kind}StateEntered", {"name": name, "input": data})
            data, name = self._step(name, state, data)
        return data

    def _step(self, name: str, state: Mapping[str, Any], data: Any) -> tuple[Any, str | None]:
        kind = state["Type"]
        if kind == "Fail":
            raise StatesError(state.get("Error", "States.Fail"), state.get("Cause", ""))
        effective = read_path(state.get("InputPath", "$"), data, self._context)
        following: str | None = state.get("Next")
        if kind == "Choice":
            matched = (c for c in state["Choices"] if choice_matches(c, effective, self._context))
            following = next((c["Next"] for c in matched), state.get("Default"))
            if following is None:
                raise StatesError("States.NoChoiceMatched", f"no Choice rule of {name} matched")
            output = effective
        elif kind == "Succeed":
            output = effective
        else:
            if "Parameters" in state:
                effective = apply_template(state["Parameters"], effective, self._context)
            try:
                result = (
                    self._task(state, effective)
                    if kind == "Task"
                    else state.get("Result", effective)
                )
            except StatesError as error:
                return self._catch(name, state, data, error)
            output = write_path(state.get("ResultPath", "$"), data, result)
        output = read_path(state.get("OutputPath", "$"), output, self._context)
        self._emit(f"{kind}StateExited", {"name": name, "output": output})
        return output, None if state.get("End") or kind == "Succeed" else following

    def _task(self, state: Mapping[str, Any], parameters: Any) -> Any:
        resource = state["Resource"]
        result = self._run_task(resource, parameters)
        if "ResultSelector" in state:
            result = apply_template(state["ResultSelector"], result, self._context)
        return result

    def _catch(
        self, name: str, state: Mapping[str, Any], data: Any, error: StatesError
    ) -> tuple[Any, str | None]:
        for catcher in state.get("Catch", []):
            if _error_matches(catcher.get("ErrorEquals", []), error.error):
                details = {"Error": error.error, "Cause": error.cause}
                output = write_path(catcher.get("ResultPath", "$"), data, details)
                self._emit(f"{state['Type']}StateExited", {"name": name, "output": output})
                return output, catcher["Next"]
        raise error
