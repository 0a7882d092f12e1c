"""Lambda's Invoke, for real: the function's own handler in a fresh Python process.

Each invocation unpacks the function's code (the zip moto stores, or a directory), starts this
venv's python3 on `lambda_bootstrap.py` with the environment Lambda gives a function (its
variables, the execution role's temporary credentials, AWS_REGION, AWS_LAMBDA_* and the
target's AWS_ENDPOINT_URL/AWS_CA_BUNDLE), and enforces the function's Timeout. The result has
Invoke's shape: the payload, `FunctionError: Unhandled` with `{errorMessage, errorType,
stackTrace}` on failure, and the base64 log tail for `LogType=Tail`. The role's credentials are
scrubbed from every log this module returns or emits.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from botocore.credentials import ReadOnlyCredentials

from harness.runtimes import lambda_bootstrap
from harness.runtimes.aws import AwsAccess

LOG = logging.getLogger(__name__)
BOOTSTRAP = Path(lambda_bootstrap.__file__)
LOG_TAIL_BYTES = 4096  # Invoke's LogResult holds the last 4 KB of the log
INIT_SECONDS = 10  # Lambda's separate allowance for starting the runtime and importing code
REDACTED = "****"


class UnsupportedRuntimeError(ValueError):
    """The function's runtime is not one this runner has (it runs Python 3 only)."""


class InvalidRequestContentError(ValueError):
    """Invoke's InvalidRequestContentException: the payload is not JSON."""


@dataclass(frozen=True)
class LambdaFunction:
    """The function configuration Invoke needs, as CreateFunction recorded it. Its role is
    not here: the caller hands `invoke_function` that role's access."""

    name: str
    handler: str
    code: bytes | Path  # the deployment package's zip bytes, or an unpacked directory
    function_arn: str
    timeout: float = 3  # whole seconds in Lambda; a fraction lets a test time out sooner
    memory_size: int = 128
    runtime: str = "python3.12"
    version: str = "$LATEST"
    environment: Mapping[str, str] = field(default_factory=dict)


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
    function: LambdaFunction, payload: bytes, access: AwsAccess, log_type: str = "None"
) -> InvocationResult:
    """Run `function` once on `payload` (RequestResponse), as its role through `access`."""
    if not function.runtime.startswith("python3"):
        raise UnsupportedRuntimeError(
            f"runtime {function.runtime} cannot run here: only Python 3 functions can"
        )
    try:
        json.loads(payload or b"{}")
    except ValueError as exc:
        raise InvalidRequestContentError(f"Could not parse request body into json: {exc}") from None
    request_id = str(uuid.uuid4())
    credentials = access.credentials()
    secrets = [value for value in (credentials.secret_key, credentials.token) if value]
    secrets.append(credentials.access_key)
    with tempfile.TemporaryDirectory(prefix=f"lambda-{function.name}-") as scratch:
        work = Path(scratch)
        task_root = _unpack(function.code, work / "task")
        env = _environment(function, access, credentials, request_id, task_root, work)
        started = time.monotonic()
        output, outcome = _run(function, payload or b"{}", env, work / "result.json")
        duration_ms = (time.monotonic() - started) * 1000
    if outcome is None:
        message = (
            f"RequestId: {request_id} Error: Task timed out after {function.timeout:.2f} seconds"
        )
        output += f"{message}\n"
        outcome = {"error": {"errorType": "Sandbox.Timedout", "errorMessage": message}}
    error = outcome.get("error")
    log = _scrub(_frame_log(request_id, function, output, duration_ms), secrets)
    LOG.debug("invocation %s of %s:\n%s", request_id, function.name, log)
    tail = log.encode()[-LOG_TAIL_BYTES:]
    return InvocationResult(
        payload=(json.dumps(error) if error else outcome["payload"]).encode(),
        function_error="Unhandled" if error else None,
        log=log,
        executed_version=function.version,
        log_result=base64.b64encode(tail).decode() if log_type == "Tail" else None,
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
    request_id: str,
    task_root: Path,
    work: Path,
) -> dict[str, str]:
    """The function's variables, then what Lambda reserves (which a function cannot override)."""
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
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{time.strftime('%Y/%m/%d')}/[$LATEST]{request_id[:32]}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_INVOKED_FUNCTION_ARN": function.function_arn,
        "LAMBDA_REQUEST_ID": request_id,
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


def _run(
    function: LambdaFunction, payload: bytes, env: dict[str, str], result_file: Path
) -> tuple[str, dict[str, Any] | None]:
    """The process's output and its outcome, or None for the outcome when it timed out."""
    command = [sys.executable, "-P", str(BOOTSTRAP), str(result_file)]
    try:
        process = subprocess.run(
            command,
            input=payload,
            env=env,
            cwd=env["LAMBDA_TASK_ROOT"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=function.timeout + INIT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        return (expired.output or b"").decode(errors="replace"), None
    output = process.stdout.decode(errors="replace")
    if process.returncode == lambda_bootstrap.TIMED_OUT_EXIT or not result_file.exists():
        if process.returncode != lambda_bootstrap.TIMED_OUT_EXIT:
            message = f"Runtime exited with error: exit status {process.returncode}"
            return output, {"error": {"errorType": "Runtime.ExitError", "errorMessage": message}}
        return output, None
    return output, json.loads(result_file.read_text())


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
