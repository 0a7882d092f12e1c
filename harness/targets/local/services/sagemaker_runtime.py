"""sagemaker-runtime's InvokeEndpoint on the local target: the body goes to the endpoint's
own inference server, the answer comes back as the API's response or its errors
(``ValidationError`` when the endpoint is not InService, ``ModelError`` with the
container's status and message)."""

from __future__ import annotations

from typing import Any

from harness.runtimes.endpoint.invoke import ModelError, invoke_endpoint
from harness.targets.local.gateway import ServedCall
from harness.targets.local.services.sagemaker import SageMaker
from harness.targets.local.services.wire import Answer, WsgiApp, error_answer, read_body


class SageMakerRuntime:
    """The ``sagemaker-runtime`` local service; endpoints are those ``sagemaker`` hosts."""

    def __init__(self, sagemaker: SageMaker) -> None:
        self._sagemaker = sagemaker

    def __call__(self, served: ServedCall) -> WsgiApp | None:
        if served.call.operation != "InvokeEndpoint":
            return None
        return lambda environ, start_response: self._invoke(served, environ)(
            environ, start_response
        )

    def _invoke(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        params = served.call.params
        name = params["EndpointName"]
        serving = self._sagemaker.serving(served.moto_account, served.call.region, name)
        if serving is None:
            return error_answer(
                served.protocol,
                "ValidationError",
                f"Endpoint {name} of account {served.moto_account} not found or not InService.",
            )
        try:
            result = invoke_endpoint(
                serving.url, read_body(environ), params.get("ContentType"), params.get("Accept")
            )
        except ModelError as error:
            log_stream = (
                f"arn:aws:logs:{served.call.region}:{served.moto_account}:log-group:"
                f"/aws/sagemaker/Endpoints/{name}"
            )
            return error_answer(
                served.protocol,
                "ModelError",
                str(error),
                status=424,
                OriginalStatusCode=error.original_status_code,
                OriginalMessage=error.original_message,
                LogStreamArn=log_stream,
            )
        except OSError as error:  # the container went away between lookup and call
            return error_answer(
                served.protocol,
                "ServiceUnavailable",
                f"Endpoint {name} could not be reached: {error}",
                status=503,
            )
        return Answer(
            200,
            result.body,
            (
                ("Content-Type", result.content_type),
                ("x-Amzn-Invoked-Production-Variant", serving.variant_name),
            ),
        )
