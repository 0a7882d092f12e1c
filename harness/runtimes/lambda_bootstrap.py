"""The Python runtime's bootstrap: one execution environment of a Lambda function.

Standard library only: it runs beside the function's code, not the harness. Each line on stdin
is one invocation, ``{"request_id", "result_file", "event"}``. The first imports the handler
named by `_HANDLER` from `LAMBDA_TASK_ROOT` (the cold start); later ones reuse it in this same
interpreter, as Lambda reuses a warm environment. Each calls the handler with a context object,
writes the outcome as JSON to its result file: `{"payload": "<the result as JSON>"}` or
`{"error": {errorMessage, errorType, stackTrace}}`, the shapes the Lambda Python runtime
reports, and then prints :data:`END` on a line of its own, after the invocation's output. An
invocation that ended in an error ends the environment: the next one starts cold. The handler's
own time limit is enforced here with a timer, so a handler that swallows exceptions still cannot
outlive its Timeout.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

TIMED_OUT_EXIT = 124
END = "\x1e[lambda-bootstrap: invocation ended]"
"""The line after an invocation's output (a record separator first: no handler prints it)."""


class LambdaContext:
    """The context object handlers receive (the attributes the Python runtime documents)."""

    def __init__(self, request_id: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = os.environ["LAMBDA_INVOKED_FUNCTION_ARN"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def _error(error_type: str, message: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "stackTrace": stack or []}


def _load_handler() -> Any:
    module_name, _, function_name = os.environ["_HANDLER"].replace("/", ".").rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise _RuntimeError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise _RuntimeError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return handler


class _RuntimeError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _on_timeout(_signum: int, _frame: FrameType | None) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(TIMED_OUT_EXIT)


def _user_frames(exc: BaseException) -> list[str]:
    """The traceback without this bootstrap's own frames, as Lambda's stackTrace lists it."""
    frames = [
        frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename != __file__
    ]
    return traceback.format_list(frames)


def serve() -> None:
    """Every invocation on stdin, until it closes or one ends in an error."""
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    timeout = float(os.environ["LAMBDA_TIMEOUT_SECONDS"])
    signal.signal(signal.SIGALRM, _on_timeout)
    handler = None
    while line := sys.stdin.readline():
        request = json.loads(line)
        outcome, handler = invoke(handler, request["event"], request["request_id"], timeout)
        sys.stdout.flush()
        sys.stderr.flush()
        Path(request["result_file"]).write_text(json.dumps(outcome))
        print(END, flush=True)
        if "error" in outcome:
            return


def invoke(handler: Any, event: Any, request_id: str, timeout: float) -> tuple[dict[str, Any], Any]:
    """The outcome of one invocation, and the handler for the next (None: import it again)."""
    try:
        handler = handler or _load_handler()
    except _RuntimeError as exc:
        print(f"[ERROR] {exc.error_type}: {exc}", file=sys.stderr, flush=True)
        return {"error": _error(exc.error_type, str(exc))}, None
    context = LambdaContext(request_id, time.monotonic() + timeout)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = handler(event, context)
    except Exception as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        stack = _user_frames(exc)
        print(
            f"[ERROR] {type(exc).__name__}: {exc}\nTraceback (most recent call last):\n"
            + "".join(stack),
            file=sys.stderr,
            flush=True,
        )
        return {"error": _error(type(exc).__name__, str(exc), stack)}, handler
    signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        return {"payload": json.dumps(result)}, handler
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        print(f"[ERROR] Runtime.MarshalError: {message}", file=sys.stderr, flush=True)
        return {"error": _error("Runtime.MarshalError", message)}, handler


if __name__ == "__main__":
    serve()
