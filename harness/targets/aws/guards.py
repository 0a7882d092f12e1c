"""Guards a run on real accounts passes before it creates or spends anything."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from harness.targets.aws.settings import CostLimits


class GuardRefused(RuntimeError):
    """The run would touch an account, a name or a cost it is not allowed to."""


def check_accounts(observed: Mapping[str, str], allowed: Mapping[str, str]) -> None:
    """Every account's caller identity must be the allow-listed id for its role."""
    wrong = {
        role: (observed.get(role), expected)
        for role, expected in allowed.items()
        if observed.get(role) != expected
    }
    if wrong:
        detail = "; ".join(
            f"{role}: credentials are for {got}, allow-list says {want}"
            for role, (got, want) in wrong.items()
        )
        raise GuardRefused(f"refusing to start: {detail}")


def check_name(name: str, run_id: str) -> None:
    if not name.startswith(f"{run_id}-"):
        raise GuardRefused(f"name {name!r} does not start with the run id {run_id!r}-")


def _walk(node: Any, key: str | None = None) -> Iterator[tuple[str | None, Any]]:
    yield key, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def check_cost(
    template: Mapping[str, Any], parameters: Mapping[str, str], limits: CostLimits
) -> None:
    """Refuse instance types outside the allow-list (literal properties, and parameters named
    ``*InstanceType`` with their given or default value) and training runtimes above the
    bound. Works on templates and on rendered documents (training input, pipeline)."""
    problems = []
    for name, declared in template.get("Parameters", {}).items():
        if name.endswith("InstanceType"):
            value = parameters.get(name, declared.get("Default"))
            if value not in limits.instance_types:
                problems.append(f"parameter {name}={value}")
    for key, value in _walk(dict(template)):
        if key == "InstanceType" and isinstance(value, str) and value.startswith("ml."):
            if value not in limits.instance_types:
                problems.append(f"InstanceType {value}")
        elif key == "MaxRuntimeInSeconds" and int(value) > limits.max_training_seconds:
            problems.append(f"MaxRuntimeInSeconds {value} > {limits.max_training_seconds}")
    if problems:
        raise GuardRefused(
            "cost guard: "
            + "; ".join(problems)
            + f" (allowed instance types: {sorted(limits.instance_types)})"
        )


class RunClock:
    """The run's bound: the time left, and a refusal once it is spent."""

    def __init__(self, max_seconds: float) -> None:
        self.max_seconds = max_seconds
        self.deadline = time.monotonic() + max_seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise GuardRefused(f"run bound of {self.max_seconds:.0f}s spent; not starting {what}")
