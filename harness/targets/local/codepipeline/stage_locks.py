"""Which execution is in each stage of a pipeline, as CodePipeline V2's execution modes decide.

An execution enters a stage only when no other execution is in it (stages are locked); those
waiting for a stage enter in arrival order (QUEUED), or only the newest waits and older
waiting ones are superseded (SUPERSEDED). PARALLEL executions never wait.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from harness.deadlines import POLL_S, bound
from harness.targets.local.codepipeline.model import Execution

Slot = tuple[str, str]  # pipeline ARN, stage name


@dataclass
class _Stage:
    holder: str | None = None
    waiting: list[Execution] = field(default_factory=list)


class StageLocks:
    def __init__(self) -> None:
        self._stages: dict[Slot, _Stage] = {}
        self._changed = threading.Condition()

    def enter(self, execution: Execution, stage: str) -> bool:
        """Wait until ``execution`` may run ``stage``; False if it was stopped or
        superseded meanwhile (its status then says which)."""
        mode = execution.declaration.get("executionMode", "SUPERSEDED")
        if mode == "PARALLEL":
            return True
        with self._changed:
            slot = self._stages.setdefault((execution.pipeline.arn, stage), _Stage())
            if mode == "SUPERSEDED":
                for older in slot.waiting:
                    older.finish("Superseded", f"Superseded by {execution.execution_id}")
                slot.waiting.clear()
            slot.waiting.append(execution)
            # Waits behind earlier executions, which may wait for their approval in turn.
            deadline = time.monotonic() + bound("approval")
            while time.monotonic() < deadline:
                if execution.stop.is_set() or execution.status == "Superseded":
                    break
                if slot.holder is None and slot.waiting[0] is execution:
                    slot.waiting.pop(0)
                    slot.holder = execution.execution_id
                    return True
                self._changed.wait(POLL_S)
            else:
                execution.finish("Failed", f"waited {bound('approval'):g} s to enter {stage}")
            if execution in slot.waiting:
                slot.waiting.remove(execution)
            self._changed.notify_all()
            return False

    def leave(self, execution: Execution, stage: str) -> None:
        with self._changed:
            slot = self._stages.get((execution.pipeline.arn, stage))
            if slot is not None and slot.holder == execution.execution_id:
                slot.holder = None
                self._changed.notify_all()
