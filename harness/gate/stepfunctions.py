"""Read a state machine definition out of an AWS::StepFunctions::StateMachine resource."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from harness.gate.cfn_values import as_document, render

_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def definition(properties: dict[str, Any]) -> dict[str, Any] | None:
    """The definition (``Definition`` or ``DefinitionString``); None when kept in S3."""
    for name in ("Definition", "DefinitionString"):
        if name in properties:
            parsed = as_document(properties[name])
            return parsed if isinstance(parsed, dict) else None
    return None


def substitutions(properties: dict[str, Any]) -> dict[str, str]:
    """``DefinitionSubstitutions`` rendered to text."""
    raw = properties.get("DefinitionSubstitutions")
    return {k: render(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def substitute(text: str, values: dict[str, str]) -> str:
    """Fill ``${Name}`` from the substitutions; unknown names stay as they are."""
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def task_states(states_owner: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every Task state, including those nested in Parallel branches and Map iterators."""
    states = states_owner.get("States")
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        if state.get("Type") == "Task":
            yield name, state
        for branch in state.get("Branches") or []:
            if isinstance(branch, dict):
                yield from task_states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                yield from task_states(state[key])


def calls(state: dict[str, Any], integration: str) -> bool:
    """True when a Task state's Resource is the given service integration (any pattern).

    ``integration`` is e.g. ``"sagemaker:createTrainingJob"``; ``.sync`` and
    ``.waitForTaskToken`` variants match too.
    """
    resource = render(state.get("Resource", ""))
    return resource.split(":::", 1)[-1].split(".", 1)[0] == integration
