"""Faults the reliability drills put into a local target, named by ``HARNESS_FAULT``.

Off unless the variable is set, and only the local target reads it: the ``aws`` target's
validation refuses a run with it set, so no fault can reach real accounts.

``provider-raises:<n>``  the n-th resource a stack creates fails in its provider with an
                         unexpected error (as a provider bug would), so the stack rolls back
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from harness.validation import FAULT_VARIABLE

VARIABLE = FAULT_VARIABLE
BeforeProvider = Callable[[str, str], None]  # (stack name, logical id), before its create


class DrillFault(RuntimeError):
    """The error a drill puts in; anything else that fails is a real failure."""


def before_provider(environ: Mapping[str, str]) -> BeforeProvider | None:
    """The hook the CloudFormation engine calls before each resource's create, or None."""
    spec = environ.get(VARIABLE, "")
    if not spec:
        return None
    kind, _, argument = spec.partition(":")
    if kind != "provider-raises" or not argument.isdigit():
        raise ValueError(f"{VARIABLE}={spec!r}: the local target knows provider-raises:<n>")
    nth = int(argument)
    created: dict[str, int] = {}
    lock = threading.Lock()

    def hook(stack: str, logical_id: str) -> None:
        with lock:
            created[stack] = created.get(stack, 0) + 1
            count = created[stack]
        if count == nth:
            raise DrillFault(f"drill: the provider of {logical_id} raised (resource {nth})")

    return hook
