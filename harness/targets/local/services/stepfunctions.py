"""Step Functions executions on the local target, run for real by ``asl.Interpreter``.

moto stores the state machines (CreateStateMachine and friends stay moto's); StartExecution,
DescribeExecution, GetExecutionHistory, StopExecution and ListExecutions are answered here.
Each execution runs in a thread as the state machine's role, assumed by
``states.amazonaws.com``; its Tasks call the service integration through the target's HTTPS
endpoint, so the role's identity policy (CreateTrainingJob on the job's ARN, PassRole of the
training role to SageMaker) is decided by the gateway as on AWS.

Service integrations: ``arn:aws:states:::sagemaker:createTrainingJob`` and its ``.sync``
form (polls DescribeTrainingJob; stopping the execution stops the job). An API error fails
the task with ``SageMaker.<error code>``; a job that ends Failed or Stopped fails it with
``States.TaskFailed`` and DescribeTrainingJob's answer (with the FailureReason) as the cause,
as Step Functions reports a failed ``.sync`` job.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from harness.deadlines import POLL_S, DeadlineExceeded, bound, poll
from harness.runtimes.training.status import TERMINAL
from harness.targets.local import moto_state
from harness.targets.local.gateway import ServedCall
from harness.targets.local.services.asl import ExecutionAborted, Interpreter, StatesError
from harness.targets.local.services.context import ServiceContext
from harness.targets.local.services.wire import Answer, WsgiApp, error_answer, json_answer, to_json

PRINCIPAL = "states.amazonaws.com"
_INTEGRATION_PREFIX = "arn:aws:states:::"


@dataclass
class Execution:
    """One execution: its DescribeExecution fields and its history."""

    arn: str
    machine_arn: str
    name: str
    input: str
    status: str = "RUNNING"
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    stop: datetime | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(self, kind: str, details: dict[str, Any]) -> None:
        """Append a history event (details' ``input``/``output`` become JSON text)."""
        details = {
            key: json.dumps(value) if key in ("input", "output") else value
            for key, value in details.items()
        }
        key = kind[0].lower() + kind[1:] + "EventDetails"
        for phase in ("Entered", "Exited"):
            if kind.endswith(f"State{phase}"):
                key = f"state{phase}EventDetails"
        with self.lock:
            event_id = len(self.events) + 1
            self.events.append(
                {
                    "timestamp": datetime.now(UTC),
                    "type": kind,
                    "id": event_id,
                    "previousEventId": event_id - 1,
                    key: details,
                }
            )

    def finish(self, status: str, output: Any = None, error: str = "", cause: str = "") -> None:
        with self.lock:
            self.status, self.stop = status, datetime.now(UTC)
            if status == "SUCCEEDED":
                self.output = json.dumps(output)
            else:
                self.error, self.cause = error, cause
        if status == "SUCCEEDED":
            self.emit("ExecutionSucceeded", {"output": output})
        elif status == "FAILED":
            self.emit("ExecutionFailed", {"error": error, "cause": cause})
        else:
            self.emit("ExecutionAborted", {"error": error, "cause": cause})

    def describe(self) -> dict[str, Any]:
        with self.lock:
            described: dict[str, Any] = {
                "executionArn": self.arn,
                "stateMachineArn": self.machine_arn,
                "name": self.name,
                "status": self.status,
                "startDate": self.start,
                "input": self.input,
                "inputDetails": {"included": True},
            }
            optional = {
                "stopDate": self.stop,
                "output": self.output,
                "outputDetails": {"included": True} if self.output is not None else None,
                "error": self.error,
                "cause": self.cause,
            }
        described.update({k: v for k, v in optional.items() if v is not None})
        return described

    def summary(self) -> dict[str, Any]:
        described = self.describe()
        wanted = ("executionArn", "stateMachineArn", "name", "status", "startDate", "stopDate")
        return {k: described[k] for k in wanted if k in described}


class StepFunctions:
    """The ``stepfunctions`` local service (see the module docstring)."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context
        self._executions: dict[str, Execution] = {}
        self._lock = threading.Lock()
        self._handlers: dict[str, Callable[[ServedCall, dict[str, Any]], Answer]] = {
            "StartExecution": self._start_execution,
            "DescribeExecution": self._describe_execution,
            "GetExecutionHistory": self._get_execution_history,
            "StopExecution": self._stop_execution,
            "ListExecutions": self._list_executions,
        }

    def __call__(self, served: ServedCall) -> WsgiApp | None:
        handler = self._handlers.get(served.call.operation)
        if handler is None:
            return None
        return lambda environ, start_response: handler(served, environ)(environ, start_response)

    def stop(self) -> None:
        """Abort every running execution (the target is stopping)."""
        with self._lock:
            executions = list(self._executions.values())
        for execution in executions:
            execution.stopping.set()

    def _start_execution(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        params = served.call.params
        machine = moto_state.state_machine(params["stateMachineArn"])
        if machine is None:
            return error_answer(
                served.protocol,
                "StateMachineDoesNotExist",
                f"State Machine Does Not Exist: '{params['stateMachineArn']}'",
            )
        name = params.get("name") or str(uuid.uuid4())
        text = params.get("input") or "{}"
        try:
            data = json.loads(text)
        except ValueError as error:
            return error_answer(served.protocol, "InvalidExecutionInput", str(error))
        arn = machine.arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
        execution = Execution(arn, machine.arn, name, text)
        with self._lock:
            if arn in self._executions:
                return error_answer(
                    served.protocol, "ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'"
                )
            self._executions[arn] = execution
        execution.emit("ExecutionStarted", {"input": data, "roleArn": machine.role_arn})
        self._context.background(
            f"execution-{name}", lambda: self._run(execution, machine, data, served.call.region)
        )
        return json_answer(served.protocol, {"executionArn": arn, "startDate": execution.start})

    def _run(
        self, execution: Execution, machine: moto_state.StoredStateMachine, data: Any, region: str
    ) -> None:
        context = {
            "Execution": {
                "Id": execution.arn,
                "Name": execution.name,
                "Input": data,
                "RoleArn": machine.role_arn,
                "StartTime": execution.start.isoformat(),
            },
            "StateMachine": {"Id": machine.arn, "Name": machine.name},
        }
        stopping = execution.stopping
        try:
            access = self._context.access(machine.role_arn, PRINCIPAL)
            tasks = _Tasks(access.client("sagemaker"), execution, stopping)
            interpreter = Interpreter(
                json.loads(machine.definition), tasks.run, execution.emit, context, stopping
            )
            output = interpreter.run(data)
        except PermissionError as denied:
            execution.finish(
                "FAILED",
                error="States.Runtime",
                cause=f"Neither the global service principal states.amazonaws.com nor the "
                f"regional one is authorized to assume the provided role: {denied}",
            )
        except StatesError as failure:
            execution.finish("FAILED", error=failure.error, cause=failure.cause)
        except ExecutionAborted:
            execution.finish("ABORTED", error="", cause="")
        else:
            execution.finish("SUCCEEDED", output)

    def _execution(self, served: ServedCall) -> Execution | Answer:
        arn = served.call.params["executionArn"]
        with self._lock:
            execution = self._executions.get(arn)
        if execution is None:
            return error_answer(
                served.protocol, "ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'"
            )
        return execution

    def _describe_execution(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        found = self._execution(served)
        if isinstance(found, Answer):
            return found
        return json_answer(served.protocol, found.describe())

    def _get_execution_history(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        found = self._execution(served)
        if isinstance(found, Answer):
            return found
        params = served.call.params
        with found.lock:
            events = list(found.events)
        if params.get("reverseOrder"):
            events.reverse()
        start = int(params.get("nextToken") or 0)
        size = int(params.get("maxResults") or 1000)
        page: dict[str, Any] = {"events": events[start : start + size]}
        if start + size < len(events):
            page["nextToken"] = str(start + size)
        return json_answer(served.protocol, page)

    def _stop_execution(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        found = self._execution(served)
        if isinstance(found, Answer):
            return found
        found.stopping.set()
        return json_answer(served.protocol, {"stopDate": datetime.now(UTC)})

    def _list_executions(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        params = served.call.params
        machine_arn = params.get("stateMachineArn")
        if machine_arn is None or moto_state.state_machine(machine_arn) is None:
            return error_answer(
                served.protocol,
                "StateMachineDoesNotExist",
                f"State Machine Does Not Exist: '{machine_arn}'",
            )
        wanted = params.get("statusFilter")
        with self._lock:
            executions = [e for e in self._executions.values() if e.machine_arn == machine_arn]
        summaries = [e.summary() for e in reversed(executions)]
        if wanted:
            summaries = [s for s in summaries if s["status"] == wanted]
        return json_answer(served.protocol, {"executions": summaries})


class _Tasks:
    """The service integrations a Task state can call, as the state machine's role."""

    def __init__(self, sagemaker: BaseClient, execution: Execution, stopping: threading.Event):
        self._sagemaker = sagemaker
        self._execution = execution
        self._stopping = stopping

    def run(self, resource: str, parameters: Any) -> Any:
        integration = resource.removeprefix(_INTEGRATION_PREFIX)
        service, _, action = integration.partition(":")
        details = {"resourceType": service, "resource": action}
        if resource == integration or (service, action.removesuffix(".sync")) != (
            "sagemaker",
            "createTrainingJob",
        ):
            raise StatesError("States.Runtime", f"resource {resource} is not supported here")
        emit = self._execution.emit
        emit("TaskScheduled", {**details, "parameters": to_json(parameters).decode()})
        emit("TaskStarted", details)
        try:
            result = self._create_training_job(parameters, action.endswith(".sync"))
        except StatesError as failure:
            emit("TaskFailed", {**details, "error": failure.error, "cause": failure.cause})
            raise
        emit("TaskSucceeded", {**details, "output": to_json(result).decode()})
        return result

    def _create_training_job(self, parameters: Any, sync: bool) -> Any:
        created = self._call("create_training_job", **parameters)
        if not sync:
            return created
        self._execution.emit(
            "TaskSubmitted",
            {"resourceType": "sagemaker", "resource": "createTrainingJob.sync"},
        )
        name = parameters["TrainingJobName"]
        try:
            for _ in poll(f"training job {name} to end", bound("training_job"), interval_s=0):
                described = self._call("describe_training_job", TrainingJobName=name)
                status = described["TrainingJobStatus"]
                if status == "Completed":
                    return json.loads(to_json(described))
                if status in TERMINAL:
                    raise StatesError("States.TaskFailed", to_json(described).decode())
                if self._stopping.wait(POLL_S):
                    self._call("stop_training_job", TrainingJobName=name)
                    raise ExecutionAborted()
        except DeadlineExceeded as exceeded:
            self._call("stop_training_job", TrainingJobName=name)
            raise StatesError("States.Timeout", str(exceeded)) from exceeded
        raise AssertionError("poll ends by raising DeadlineExceeded")

    def _call(self, operation: str, **parameters: Any) -> Any:
        try:
            response = getattr(self._sagemaker, operation)(**parameters)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            raise StatesError(f"SageMaker.{code}", str(error)) from None
        except (BotoCoreError, TypeError, ValueError) as error:  # bad parameters
            raise StatesError("States.TaskFailed", str(error)) from None
        response.pop("ResponseMetadata", None)
        return response
