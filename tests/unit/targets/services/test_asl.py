"""The ASL interpreter on its own: paths, templates, Choice, Catch, and refusals."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from harness.targets.local.services.asl import (
    ExecutionAborted,
    Interpreter,
    StatesError,
    apply_template,
    choice_matches,
    read_path,
    write_path,
)

CONTEXT = {"Execution": {"Name": "run-7"}}


def run(
    states: dict[str, Any], data: Any, task: Any = None, stopping: threading.Event | None = None
) -> tuple[Any, list[str]]:
    events: list[str] = []
    interpreter = Interpreter(
        {"StartAt": next(iter(states)), "States": states},
        task or (lambda resource, parameters: {"resource": resource, "got": parameters}),
        lambda kind, details: events.append(kind),
        dict(CONTEXT),
        stopping or threading.Event(),
    )
    return interpreter.run(data), events


def test_paths_read_and_write() -> None:
    data = {"a": {"b": [10, {"c": "x"}]}, "k y": 1}
    assert read_path("$", data, CONTEXT) == data
    assert read_path("$.a.b[1].c", data, CONTEXT) == "x"
    assert read_path("$['k y']", data, CONTEXT) == 1
    assert read_path("$$.Execution.Name", data, CONTEXT) == "run-7"
    with pytest.raises(StatesError, match="could not be found"):
        read_path("$.missing", data, CONTEXT)
    assert write_path("$.r.s", {"a": 1}, 5) == {"a": 1, "r": {"s": 5}}
    assert write_path("$", {"a": 1}, 5) == 5
    assert write_path(None, {"a": 1}, 5) == {"a": 1}


def test_template_resolves_dollar_keys_and_refuses_intrinsics() -> None:
    template = {"Name.$": "$$.Execution.Name", "List": [{"V.$": "$.v"}], "Fixed": "s"}
    assert apply_template(template, {"v": 3}, CONTEXT) == {
        "Name": "run-7",
        "List": [{"V": 3}],
        "Fixed": "s",
    }
    with pytest.raises(StatesError, match="intrinsic"):
        apply_template({"X.$": "States.Format('{}', $.v)"}, {"v": 1}, CONTEXT)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"Variable": "$.n", "NumericGreaterThan": 2}, True),
        ({"Variable": "$.n", "NumericLessThanPath": "$.m"}, True),
        ({"Variable": "$.s", "StringEquals": "on"}, True),
        ({"Variable": "$.s", "NumericEquals": 3}, False),  # a string is never numeric
        ({"Variable": "$.gone", "IsPresent": False}, True),
        ({"Not": {"Variable": "$.b", "BooleanEquals": True}}, False),
        (
            {
                "And": [
                    {"Variable": "$.n", "NumericEquals": 3},
                    {"Variable": "$.b", "IsNull": False},
                ]
            },
            True,
        ),
        (
            {
                "Or": [
                    {"Variable": "$.s", "StringEquals": "off"},
                    {"Variable": "$.n", "NumericLessThan": 0},
                ]
            },
            False,
        ),
    ],
)
def test_choice_rules(rule: dict[str, Any], expected: bool) -> None:
    data = {"n": 3, "m": 4, "s": "on", "b": True}
    assert choice_matches(rule, data, CONTEXT) is expected


def test_task_paths_apply_in_order() -> None:
    states = {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::x:y",
            "InputPath": "$.in",
            "Parameters": {"P.$": "$.p", "Job.$": "$$.Execution.Name"},
            "ResultSelector": {"Got.$": "$.got"},
            "ResultPath": "$.out",
            "OutputPath": "$.out.Got",
            "End": True,
        }
    }
    output, events = run(states, {"in": {"p": 1}, "other": 2})
    assert output == {"P": 1, "Job": "run-7"}
    assert events == ["TaskStateEntered", "TaskStateExited"]


def test_choice_pass_and_fail() -> None:
    states = {
        "Pick": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Stop",
        },
        "Done": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.result", "Next": "End"},
        "End": {"Type": "Succeed"},
        "Stop": {"Type": "Fail", "Error": "Custom.Stop", "Cause": "not going"},
    }
    output, _ = run(states, {"go": True})
    assert output == {"go": True, "result": {"ok": True}}
    with pytest.raises(StatesError) as failed:
        run(states, {"go": False})
    assert (failed.value.error, failed.value.cause) == ("Custom.Stop", "not going")


def test_catch_routes_task_errors_but_not_runtime_errors() -> None:
    def failing(resource: str, parameters: Any) -> Any:
        raise StatesError("SageMaker.AccessDeniedException", "denied")

    states = {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::x:y",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "F"}],
            "End": True,
        },
        "F": {"Type": "Pass", "End": True},
    }
    output, _ = run(states, {"a": 1}, failing)
    assert output == {
        "a": 1,
        "error": {"Error": "SageMaker.AccessDeniedException", "Cause": "denied"},
    }

    def broken(resource: str, parameters: Any) -> Any:
        raise StatesError("States.Runtime", "bad path")

    with pytest.raises(StatesError, match="bad path"):
        run(states, {}, broken)


def test_unsupported_states_and_fields_are_refused() -> None:
    with pytest.raises(StatesError, match="Type Map is not supported"):
        run({"M": {"Type": "Map", "End": True}}, {})
    with pytest.raises(StatesError, match="Retry not supported"):
        run({"T": {"Type": "Task", "Resource": "r", "Retry": [], "End": True}}, {})


def test_stopped_execution_aborts_before_the_next_state() -> None:
    stopping = threading.Event()
    stopping.set()
    with pytest.raises(ExecutionAborted):
        run({"P": {"Type": "Pass", "End": True}}, {}, stopping=stopping)
