"""The Python runtime's bootstrap, run in a fresh interpreter for one Lambda invocation.

Standard library only: it runs beside the function's code, not the harness. It imports the
handler named by `_HANDLER` from `LAMBDA_TASK_ROOT`, reads the event from stdin, calls the
handler with a context object, and writes the outcome as JSON to the file named by argv[1]:
`{"payload": "<the result as JSON>"}` or `{"error": {errorMessage, errorType, stackTrace}}`,
the shapes the Lambda Python runtime reports. The handler's own time limit is enforced here with a
timer, so a handler that swallows exceptions still cannot outlive its Timeout.
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


def invoke(result_file: Path) -> None:
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    request_id = os.environ["LAMBDA_REQUEST_ID"]
    timeout = float(os.environ["LAMBDA_TIMEOUT_SECONDS"])
    event = json.loads(sys.stdin.read())
    try:
        handler = _load_handler()
    except _RuntimeError as exc:
        print(f"[ERROR] {exc.error_type}: {exc}", file=sys.stderr, flush=True)
        outcome: dict[str, Any] = {"error": _error(exc.error_type, str(exc))}
        result_file.write_text(json.dumps(outcome))
        return
    context = LambdaContext(request_id, time.monotonic() + timeout)
    signal.signal(signal.SIGALRM, _on_timeout)
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
        outcome = {"error": _error(type(exc).__name__, str(exc), stack)}
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            outcome = {"payload": json.dumps(result)}
        except (TypeError, ValueError) as exc:
            message = f"Unable to marshal response: {exc}"
            print(f"[ERROR] Runtime.MarshalError: {message}", file=sys.stderr, flush=True)
            outcome = {"error": _error("Runtime.MarshalError", message)}
    sys.stdout.flush()
    result_file.write_text(json.dumps(outcome))


if __name__ == "__main__":
    invoke(Path(sys.argv[1]))
