"""What running actions wait for from outside: an approval's result, a job's result.

An approval is found by its token (PutApprovalResult), a job by its id (PutJobSuccessResult /
PutJobFailureResult, called by whoever the action handed the job to). Waiting gives up when
the execution is stopped with ``abandon``, or when the wait times out.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from harness.deadlines import DeadlineExceeded, poll
from harness.targets.local.codepipeline.json_api import ServiceError
from harness.targets.local.codepipeline.model import ActionRun, Execution


class ActionFailed(Exception):
    """The action failed; ``code`` and the message become its error details."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ActionAbandoned(Exception):
    """The execution was stopped with abandon while the action was in progress."""


@dataclass
class Wait:
    """One action waiting for a result delivered through the API."""

    execution: Execution
    run: ActionRun
    result: dict[str, Any] | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float, what: str) -> dict[str, Any]:
        try:
            for _ in poll(f"{what}: a result", timeout, stop=self.done):
                if self.done.is_set():
                    assert self.result is not None
                    return self.result
                if self.execution.stop.is_set() and self.execution.abandon:
                    raise ActionAbandoned(what)
        except DeadlineExceeded as exceeded:
            raise ActionFailed("JobFailed", str(exceeded)) from exceeded
        raise AssertionError("poll ends by raising DeadlineExceeded")


@dataclass
class Job(Wait):
    """A job handed to a worker (a Lambda function); ``accounts`` may report its result."""

    job_id: str = ""
    accounts: frozenset[str] = frozenset()


class Waits:
    """Approvals by token and jobs by id, shared by the runner and the API."""

    def __init__(self) -> None:
        self._approvals: dict[str, Wait] = {}
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def approval(self, execution: Execution, run: ActionRun) -> Wait:
        """Register ``run`` as waiting for approval; its token is set on the run."""
        token = str(uuid.uuid4())
        wait = Wait(execution, run)
        with self._lock:
            self._approvals[token] = wait
        run.token = token
        return wait

    def approve(self, token: str, where: tuple[str, str, str], result: dict[str, Any]) -> None:
        """Deliver PutApprovalResult; ``where`` is (pipeline, stage, action) as called."""
        with self._lock:
            wait = self._approvals.get(token)
            if wait is None or wait.done.is_set() or _where(wait) != where:
                raise ServiceError(
                    "InvalidApprovalTokenException",
                    f"The approval token {token} is not valid for action {'/'.join(where)}",
                )
            del self._approvals[token]
            wait.result = result
            wait.done.set()

    def job(self, execution: Execution, run: ActionRun, accounts: set[str]) -> Job:
        job = Job(execution, run, job_id=str(uuid.uuid4()), accounts=frozenset(accounts))
        with self._lock:
            self._jobs[job.job_id] = job
        return job

    def report(self, job_id: str, account_id: str, result: dict[str, Any]) -> None:
        """Deliver a job's success or failure result, as reported by ``account_id``."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or account_id not in job.accounts:
                raise ServiceError("JobNotFoundException", f"Job {job_id} not found")
            if job.done.is_set():
                raise ServiceError("InvalidJobStateException", f"Job {job_id} already has a result")
            del self._jobs[job_id]
            job.result = result
            job.done.set()


def _where(wait: Wait) -> tuple[str, str, str]:
    return (wait.execution.pipeline.name, wait.run.stage, wait.run.name)
