"""Lambda's Invoke on the local target: the function's own code runs, as its role.

The function's configuration and code zip come from moto's record; its role is assumed by
``lambda.amazonaws.com`` (so the role's trust policy must allow Lambda) and the function
reaches AWS through the target's HTTPS endpoint and CA. ``RequestResponse`` answers with the
payload or the function error; ``Event`` queues the run in the background and answers 202;
``DryRun`` only checks that the function may be invoked.
"""

from __future__ import annotations

import json
from typing import Any

from harness.runtimes.lambda_runner import (
    Environments,
    LambdaFunction,
    UnsupportedRuntimeError,
    invoke_function,
)
from harness.targets.local import moto_state
from harness.targets.local.gateway import ServedCall
from harness.targets.local.services.context import ServiceContext
from harness.targets.local.services.wire import Answer, WsgiApp, error_answer, read_body

PRINCIPAL = "lambda.amazonaws.com"


class Lambda:
    """The ``lambda`` local service: Invoke only; everything else is moto's. Functions'
    execution environments stay warm between invocations until ``stop``."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context
        self._warm = Environments()

    def stop(self) -> None:
        """End the warm environments (after the background invocations have ended)."""
        self._warm.stop()

    def __call__(self, served: ServedCall) -> WsgiApp | None:
        if served.call.operation != "Invoke":
            return None
        return lambda environ, start_response: self._invoke(served, environ)(
            environ, start_response
        )

    def _invoke(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        params = served.call.params
        account, region = served.moto_account, served.call.region
        stored = moto_state.lambda_function(
            account, region, params["FunctionName"], params.get("Qualifier")
        )
        if stored is None:
            return error_answer(
                served.protocol,
                "ResourceNotFoundException",
                f"Function not found: arn:aws:lambda:{region}:{account}:function:"
                f"{params['FunctionName']}",
                status=404,
                Type="User",
            )
        try:
            access = self._context.access(stored.role_arn, PRINCIPAL)
        except PermissionError as denied:
            return error_answer(
                served.protocol,
                "AccessDeniedException",
                f"The role defined for the function cannot be assumed by Lambda. ({denied})",
                status=403,
                Type="User",
            )
        function = LambdaFunction(
            name=stored.name,
            handler=stored.handler,
            code=stored.code,
            function_arn=stored.arn,
            timeout=stored.timeout,
            memory_size=stored.memory_size,
            runtime=stored.runtime,
            version=stored.version,
            environment=stored.environment,
            role_arn=stored.role_arn,
        )
        payload = read_body(environ)
        invocation_type = params.get("InvocationType", "RequestResponse")
        if invocation_type == "DryRun":
            return Answer(204)
        try:
            json.loads(payload or b"{}")
        except ValueError as error:
            return error_answer(
                served.protocol,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {error}",
                Type="User",
            )
        if invocation_type == "Event":
            self._context.background(
                f"lambda-event-{stored.name}",
                lambda: invoke_function(function, payload, access, warm=self._warm),
            )
            return Answer(202)
        try:
            result = invoke_function(
                function, payload, access, params.get("LogType", "None"), self._warm
            )
        except UnsupportedRuntimeError as error:
            return error_answer(
                served.protocol, "InvalidRuntimeException", str(error), status=502, Type="User"
            )
        headers = [
            ("Content-Type", "application/json"),
            ("X-Amz-Executed-Version", result.executed_version),
        ]
        if result.function_error:
            headers.append(("X-Amz-Function-Error", result.function_error))
        if result.log_result:
            headers.append(("X-Amz-Log-Result", result.log_result))
        return Answer(result.status_code, result.payload, tuple(headers))
