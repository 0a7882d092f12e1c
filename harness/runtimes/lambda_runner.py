"""Lambda's Invoke, for real: the function's own handler in a Python process of its own.

An invocation runs in an execution environment: this venv's python3 on `lambda_bootstrap.py`
in a folder holding the function's code (the zip moto stores, or a directory), with the
environment Lambda gives a function (its variables, the execution role's temporary credentials,
AWS_REGION, AWS_LAMBDA_* and the target's AWS_ENDPOINT_URL/AWS_CA_BUNDLE). Its first invocation
imports the handler's module (the cold start); given :class:`Environments`, one that succeeded
leaves its environment warm for the next invocation of the same function, as Lambda does, which
then skips the interpreter's start and the module's imports. The function's Timeout is enforced.
The result has Invoke's shape: the payload, `FunctionError: Unhandled` with `{errorMessage,
errorType, stackTrace}` on failure, and the base64 log tail for `LogType=Tail`. The role's
credentials are scrubbed from every log this module returns or emits.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any

from botocore.credentials import ReadOnlyCredentials

from harness.runtimes import lambda_bootstrap
from harness.runtimes.aws import AwsAccess

LOG = logging.getLogger(__name__)
BOOTSTRAP = Path(lambda_bootstrap.__file__)
LOG_TAIL_BYTES = 4096  # Invoke's LogResult holds the last 4 KB of the log
INIT_SECONDS = 10  # Lambda's separate allowance for starting the runtime and importing code
CLOSE_SECONDS = 5.0  # for an environment's process to end once its input closes
WARM_SECONDS = 600.0
"""How long after its start an environment is reused at most: it keeps the role credentials it
started with, an AssumeRole session of an hour, which must outlive it (Lambda, too, retires
its environments)."""
END_LINE = f"{lambda_bootstrap.END}\n".encode()
REDACTED = "****"


class UnsupportedRuntimeError(ValueError):
    """The function's runtime is not one this runner has (it runs Python 3 only)."""


class InvalidRequestContentError(ValueError):
    """Invoke's InvalidRequestContentException: the payload is not JSON."""


@dataclass(frozen=True)
class LambdaFunction:
    """The function configuration Invoke needs, as CreateFunction recorded it. The caller
    hands `invoke_function` its role's access; `role_arn` only keeps warm environments of
    different roles apart."""

    name: str
    handler: str
    code: bytes | Path  # the deployment package's zip bytes, or an unpacked directory
    function_arn: str
    timeout: float = 3  # whole seconds in Lambda; a fraction lets a test time out sooner
    memory_size: int = 128
    runtime: str = "python3.12"
    version: str = "$LATEST"
    environment: Mapping[str, str] = field(default_factory=dict)
    role_arn: str = ""


@dataclass(frozen=True)
class InvocationResult:
    """Invoke's response: StatusCode, Payload, FunctionError, LogResult, ExecutedVersion."""

    payload: bytes
    function_error: str | None
    log: str  # the whole invocation log, credentials scrubbed
    executed_version: str
    log_result: str | None = None  # base64 tail, only for LogType=Tail
    status_code: int = 200


def invoke_function(
    function: LambdaFunction,
    payload: bytes,
    access: AwsAccess,
    log_type: str = "None",
    warm: Environments | None = None,
) -> InvocationResult:
    """Run `function` once on `payload` (RequestResponse), as its role through `access`: in
    a warm environment of `warm`'s if one is idle, else in a new one (left warm in `warm`
    when the invocation succeeded)."""
    if not function.runtime.startswith("python3"):
        raise UnsupportedRuntimeError(
            f"runtime {function.runtime} cannot run here: only Python 3 functions can"
        )
    try:
        event = json.loads(payload or b"{}")
    except ValueError as exc:
        raise InvalidRequestContentError(f"Could not parse request body into json: {exc}") from None
    request_id = str(uuid.uuid4())
    key = _key(function, access)
    environment = (warm and warm.take(key)) or Environment(function, access, key)
    started = time.monotonic()
    output, outcome = environment.invoke(event, request_id)
    duration_ms = (time.monotonic() - started) * 1000
    if warm is not None and outcome is not None and "error" not in outcome:
        warm.give_back(environment)
    else:
        environment.close()
    if outcome is None:
        message = (
            f"RequestId: {request_id} Error: Task timed out after {function.timeout:.2f} seconds"
        )
        output += f"{message}\n"
        outcome = {"error": {"errorType": "Sandbox.Timedout", "errorMessage": message}}
    error = outcome.get("error")
    log = _scrub(_frame_log(request_id, function, output, duration_ms), environment.secrets)
    LOG.debug("invocation %s of %s:\n%s", request_id, function.name, log)
    tail = log.encode()[-LOG_TAIL_BYTES:]
    return InvocationResult(
        payload=(json.dumps(error) if error else outcome["payload"]).encode(),
        function_error="Unhandled" if error else None,
        log=log,
        executed_version=function.version,
        log_result=base64.b64encode(tail).decode() if log_type == "Tail" else None,
    )


class Environment:
    """One execution environment: a bootstrap process in a scratch folder with the function's
    code, started with the role credentials of the invocation that started it (Lambda hands
    an environment its credentials when it starts it). It runs one invocation at a time."""

    def __init__(self, function: LambdaFunction, access: AwsAccess, key: Hashable) -> None:
        self.key = key
        self.started = time.monotonic()
        self._timeout = function.timeout
        self._scratch = tempfile.TemporaryDirectory(prefix=f"lambda-{function.name}-")
        self._work = Path(self._scratch.name)
        task_root = _unpack(function.code, self._work / "task")
        credentials = access.credentials()
        self.secrets = [value for value in (credentials.secret_key, credentials.token) if value]
        self.secrets.append(credentials.access_key)
        self._process = subprocess.Popen(
            [sys.executable, "-P", str(BOOTSTRAP)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=_environment(function, access, credentials, task_root, self._work),
            cwd=task_root,
        )
        self._lines: SimpleQueue[bytes] = SimpleQueue()
        threading.Thread(target=self._read, name=f"lambda-{function.name}", daemon=True).start()

    def invoke(self, event: Any, request_id: str) -> tuple[str, dict[str, Any] | None]:
        """The invocation's output and its outcome, or None for the outcome when it timed
        out (the bootstrap's timer ended the process, or this backstop did)."""
        result_file = self._work / f"result-{request_id}.json"
        request = {"request_id": request_id, "result_file": str(result_file), "event": event}
        assert self._process.stdin is not None  # started with a pipe
        try:
            self._process.stdin.write(json.dumps(request).encode() + b"\n")
            self._process.stdin.flush()
        except OSError:
            pass  # it has ended: what it said and its exit status tell why
        deadline = time.monotonic() + self._timeout + INIT_SECONDS
        output: list[str] = []
        while (line := self._next_line(deadline)) != END_LINE:
            if line is None:
                self._process.kill()
                return "".join(output), None
            if not line:  # the process ended before the invocation did
                return "".join(output), self._exit_outcome()
            output.append(line.decode(errors="replace"))
        outcome: dict[str, Any] = json.loads(result_file.read_text())
        result_file.unlink()
        return "".join(output), outcome

    def close(self) -> None:
        """End the process (its input closes; killed if it does not end) and drop its files."""
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):  # it has ended already
                self._process.stdin.close()
        try:
            self._process.wait(CLOSE_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._scratch.cleanup()

    def _read(self) -> None:
        """Every line the process prints, then b"" when it has ended."""
        assert self._process.stdout is not None  # started with a pipe
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(b"")

    def _next_line(self, deadline: float) -> bytes | None:
        """The next line of output, b"" once the process has ended, None past ``deadline``."""
        try:
            return self._lines.get(timeout=max(deadline - time.monotonic(), 0.0))
        except Empty:
            return None

    def _exit_outcome(self) -> dict[str, Any] | None:
        """The outcome of a process that ended mid-invocation: None when its timer ended it."""
        returncode = self._process.wait()
        if returncode == lambda_bootstrap.TIMED_OUT_EXIT:
            return None
        message = f"Runtime exited with error: exit status {returncode}"
        return {"error": {"errorType": "Runtime.ExitError", "errorMessage": message}}


class Environments:
    """Warm execution environments, by function: an invocation takes an idle one of its
    function (same version, code, configuration and role) and gives it back once it
    succeeded, as Lambda keeps an environment for the next invocation, for at most
    ``max_age_s`` after its start; ``stop`` ends them."""

    def __init__(self, max_age_s: float = WARM_SECONDS) -> None:
        self._max_age_s = max_age_s
        self._idle: dict[Hashable, list[Environment]] = {}
        self._lock = threading.Lock()
        self._stopped = False

    def take(self, key: Hashable) -> Environment | None:
        """An idle environment for ``key`` young enough to reuse; older ones are ended."""
        retired = []
        taken = None
        with self._lock:
            idle = self._idle.get(key, [])
            while idle and taken is None:
                environment = idle.pop()
                if time.monotonic() - environment.started < self._max_age_s:
                    taken = environment
                else:
                    retired.append(environment)
        for environment in retired:
            environment.close()
        return taken

    def give_back(self, environment: Environment) -> None:
        with self._lock:
            if not self._stopped:
                self._idle.setdefault(environment.key, []).append(environment)
                return
        environment.close()  # given back after the stop: nothing will take it

    def stop(self) -> None:
        """End every idle environment; one still running ends when it is given back."""
        with self._lock:
            self._stopped = True
            idle = [environment for each in self._idle.values() for environment in each]
            self._idle.clear()
        for environment in idle:
            environment.close()


def _key(function: LambdaFunction, access: AwsAccess) -> Hashable:
    """What an environment is for: the function's configuration and code, and where its
    requests go."""
    code = function.code
    return (
        function.function_arn,
        function.version,
        function.handler,
        function.runtime,
        function.timeout,
        function.memory_size,
        function.role_arn,
        tuple(sorted(function.environment.items())),
        code if isinstance(code, Path) else hashlib.sha256(code).hexdigest(),
        access.endpoint_url,
        access.verify,
    )


def _unpack(code: bytes | Path, target: Path) -> Path:
    """The code directory: a copy of the zip's files, or the given directory itself."""
    if isinstance(code, Path):
        return code.resolve()
    with zipfile.ZipFile(BytesIO(code)) as archive:
        archive.extractall(target)  # zipfile drops absolute paths and `..` components
    return target


def _environment(
    function: LambdaFunction,
    access: AwsAccess,
    credentials: ReadOnlyCredentials,
    task_root: Path,
    work: Path,
) -> dict[str, str]:
    """The function's variables, then what Lambda reserves (which a function cannot override);
    the log stream is the environment's, as Lambda's."""
    reserved = {
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "AWS_SESSION_TOKEN": credentials.token or "",
        "AWS_REGION": access.region,
        "AWS_DEFAULT_REGION": access.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": function.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_INVOKED_FUNCTION_ARN": function.function_arn,
        "LAMBDA_TIMEOUT_SECONDS": str(function.timeout),
        "_HANDLER": function.handler,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "TMPDIR": str(work),
        "LANG": "en_US.UTF-8",
        "PYTHONUNBUFFERED": "1",  # print and traceback lines reach the log in order
        "TZ": ":UTC",
        # Nothing of the host's AWS configuration may reach the function.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if access.endpoint_url:
        reserved["AWS_ENDPOINT_URL"] = access.endpoint_url
    if isinstance(access.verify, str):
        reserved["AWS_CA_BUNDLE"] = access.verify
    return {**function.environment, **reserved}


def _frame_log(request_id: str, function: LambdaFunction, output: str, duration_ms: float) -> str:
    """The invocation's output between Lambda's START, END and REPORT lines."""
    body = output if not output or output.endswith("\n") else output + "\n"
    return (
        f"START RequestId: {request_id} Version: {function.version}\n"
        f"{body}"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {function.memory_size} MB\n"
    )


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text
