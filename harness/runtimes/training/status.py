"""Training job status as DescribeTrainingJob reports it, built up as the job advances."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

# Terminal TrainingJobStatus values: the job's thread has finished.
TERMINAL = frozenset({"Completed", "Failed", "Stopped"})


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Transition:
    """One entry of SecondaryStatusTransitions."""

    status: str
    start_time: datetime
    end_time: datetime | None = None
    message: str = ""


@dataclass(frozen=True)
class TrainingStatus:
    """A snapshot of the job; `describe_fields()` gives DescribeTrainingJob's names."""

    job_status: str = "InProgress"
    secondary_status: str = "Starting"
    failure_reason: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    model_artifacts: str | None = None
    transitions: tuple[Transition, ...] = field(default_factory=tuple)
    final_metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.job_status in TERMINAL

    def advance(self, job_status: str, secondary_status: str, message: str = "") -> TrainingStatus:
        """The next snapshot: the open transition closes and a new one starts."""
        at = now()
        closed = tuple(replace(step, end_time=step.end_time or at) for step in self.transitions)
        return replace(
            self,
            job_status=job_status,
            secondary_status=secondary_status,
            transitions=(*closed, Transition(secondary_status, at, message=message)),
        )

    def describe_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "TrainingJobStatus": self.job_status,
            "SecondaryStatus": self.secondary_status,
            "SecondaryStatusTransitions": [
                {
                    "Status": step.status,
                    "StartTime": step.start_time,
                    **({"EndTime": step.end_time} if step.end_time else {}),
                    "StatusMessage": step.message,
                }
                for step in self.transitions
            ],
        }
        optional = {
            "FailureReason": self.failure_reason,
            "TrainingStartTime": self.start_time,
            "TrainingEndTime": self.end_time,
            "ModelArtifacts": (
                {"S3ModelArtifacts": self.model_artifacts} if self.model_artifacts else None
            ),
        }
        fields.update({name: value for name, value in optional.items() if value is not None})
        if self.final_metrics:
            fields["FinalMetricDataList"] = [
                {"MetricName": name, "Value": value, "Timestamp": self.end_time}
                for name, value in self.final_metrics.items()
            ]
        return fields


StatusObserver = Callable[[TrainingStatus], None]
