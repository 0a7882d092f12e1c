"""SageMaker on the local target: training jobs that really train, endpoints that really serve.

moto validates and stores every record (CreateTrainingJob, CreateModel, CreateEndpoint, ...)
and answers the Describe/List calls; this service starts the runtimes behind the records
and keeps moto's status fields current from them (``moto_state``), so DescribeTrainingJob
and DescribeEndpoint show what really happens. UpdateEndpoint and StopTrainingJob, which moto
lacks, are answered here. Each runtime acts as the execution role assumed by
``sagemaker.amazonaws.com``: the role's trust policy, its identity policy and A's key and
bucket policies decide whether data can be read and the model written or fetched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.deadlines import bound
from harness.runtimes.endpoint.hosting import EndpointState, HostedEndpoint, ModelSpec
from harness.runtimes.training.executor import TrainingJob, start_training_job
from harness.runtimes.training.status import TrainingStatus
from harness.targets.local import moto_state
from harness.targets.local.gateway import ServedCall
from harness.targets.local.services.context import ServiceContext
from harness.targets.local.services.wire import Answer, WsgiApp, error_answer, json_answer

PRINCIPAL = "sagemaker.amazonaws.com"
Key = tuple[str, str, str]  # (account, region, name)


@dataclass(frozen=True)
class Serving:
    """Where InvokeEndpoint reaches an InService endpoint."""

    url: str
    variant_name: str


@dataclass
class _Endpoint:
    """An endpoint's containers: the one serving, and one being created for it."""

    config_name: str
    status: str = "Creating"
    serving: HostedEndpoint | None = None
    variant_name: str = ""
    pending: list[HostedEndpoint] = field(default_factory=list)


class SageMaker:
    """The ``sagemaker`` local service (see the module docstring)."""

    def __init__(self, context: ServiceContext) -> None:
        self._context = context
        self._jobs: dict[Key, TrainingJob] = {}
        self._endpoints: dict[Key, _Endpoint] = {}
        self._lock = threading.Lock()
        self._handlers: dict[str, Callable[[ServedCall, dict[str, Any]], Answer]] = {
            "CreateTrainingJob": self._create_training_job,
            "StopTrainingJob": self._stop_training_job,
            "CreateEndpoint": self._create_endpoint,
            "UpdateEndpoint": self._update_endpoint,
            "DeleteEndpoint": self._delete_endpoint,
        }

    def __call__(self, served: ServedCall) -> WsgiApp | None:
        handler = self._handlers.get(served.call.operation)
        if handler is None:
            return None
        return lambda environ, start_response: handler(served, environ)(environ, start_response)

    def serving(self, account_id: str, region: str, name: str) -> Serving | None:
        """The endpoint's server if it is InService, else None."""
        with self._lock:
            endpoint = self._endpoints.get((account_id, region, name))
            if endpoint is None or endpoint.status != "InService" or endpoint.serving is None:
                return None
            url = endpoint.serving.state.url
            return Serving(url, endpoint.variant_name) if url else None

    def stop(self, bound_s: float | None = None) -> list[str]:
        """Stop every training job and endpoint server (the target is stopping) within the
        bound; the names of those still running."""
        with self._lock:
            jobs = list(self._jobs.values())
            endpoints = list(self._endpoints.values())
            self._jobs.clear()
            self._endpoints.clear()
        bound_s = bound("stop") if bound_s is None else bound_s
        stuck = []
        for job in jobs:
            job.stop()
            if not job.wait(bound_s).done:
                stuck.append(f"training job {job.name}")
        for endpoint in endpoints:
            stuck += _stop_all(endpoint, bound_s)
        return stuck

    # training -----------------------------------------------------------------------------
    def _create_training_job(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        params = served.call.params
        role_arn = params["RoleArn"]
        try:
            access = self._context.access(role_arn, PRINCIPAL)
        except PermissionError as denied:
            return error_answer(
                served.protocol,
                "ValidationException",
                f"Could not assume role {role_arn}. Please ensure that the role exists and "
                f"allows principal '{PRINCIPAL}' to assume the role. ({denied})",
            )
        answer = self._context.forward(environ)
        if not answer.ok:
            return answer
        account, region, name = served.moto_account, served.call.region, params["TrainingJobName"]

        def record(status: TrainingStatus) -> None:
            moto_state.set_training_job_status(account, region, name, status.describe_fields())

        job = start_training_job(
            params, lambda _role: access, record, algorithm=self._context.fault.algorithm
        )
        with self._lock:
            self._jobs[(account, region, name)] = job
        return answer

    def _stop_training_job(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        name = served.call.params["TrainingJobName"]
        with self._lock:
            job = self._jobs.get((served.moto_account, served.call.region, name))
        if job is None:
            return error_answer(
                served.protocol, "ValidationException", f"Requested resource not found: {name}"
            )
        job.stop()
        return json_answer(served.protocol, {})

    # endpoints ----------------------------------------------------------------------------
    def _create_endpoint(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        answer = self._context.forward(environ)
        if answer.ok:
            params = served.call.params
            key = (served.moto_account, served.call.region, params["EndpointName"])
            config_name = params["EndpointConfigName"]
            with self._lock:
                self._endpoints[key] = _Endpoint(config_name)
            self._record(key, "Creating")
            self._deploy(key, config_name)
        return answer

    def _update_endpoint(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        """Switch to the new config's model: Updating, then InService once its container is
        up (the old one then stops), or Failed with the reason (nothing is served then;
        the old container stops with DeleteEndpoint)."""
        params = served.call.params
        account, region = served.moto_account, served.call.region
        name, config_name = params["EndpointName"], params["EndpointConfigName"]
        key = (account, region, name)
        arn = f"arn:aws:sagemaker:{region}:{account}"
        with self._lock:
            endpoint = self._endpoints.get(key)
        if endpoint is None or moto_state.endpoint_config_name(*key) is None:
            return error_answer(
                served.protocol,
                "ValidationException",
                f"Could not find endpoint '{arn}:endpoint/{name}'.",
            )
        if moto_state.endpoint_config_model(account, region, config_name) is None:
            return error_answer(
                served.protocol,
                "ValidationException",
                f"Could not find endpoint configuration '{arn}:endpoint-config/{config_name}'.",
            )
        with self._lock:
            if endpoint.status in ("Creating", "Updating"):
                return error_answer(
                    served.protocol,
                    "ValidationException",
                    f"Cannot update in-progress endpoint '{arn}:endpoint/{name}'.",
                )
            endpoint.status = "Updating"
        self._record(key, "Updating", config_name=config_name)
        self._deploy(key, config_name)
        return json_answer(served.protocol, {"EndpointArn": f"{arn}:endpoint/{name}"})

    def _delete_endpoint(self, served: ServedCall, environ: dict[str, Any]) -> Answer:
        answer = self._context.forward(environ)
        if answer.ok:
            key = (served.moto_account, served.call.region, served.call.params["EndpointName"])
            with self._lock:
                endpoint = self._endpoints.pop(key, None)
            if endpoint is not None:
                self._context.background(f"delete-endpoint-{key[2]}", lambda: _stop_all(endpoint))
        return answer

    def _deploy(self, key: Key, config_name: str) -> None:
        """Start the container for ``config_name``'s model as the model's execution role."""
        model = moto_state.endpoint_config_model(*key[:2], config_name)
        if model is None:
            self._settle(key, None, "Failed", f"ValidationException: no model for {config_name}")
            return
        try:
            access = self._context.access(model.execution_role_arn, PRINCIPAL)
        except PermissionError as denied:
            reason = (
                f"ClientError: Could not assume role {model.execution_role_arn} as "
                f"{PRINCIPAL}: {denied}"
            )
            self._settle(key, None, "Failed", reason)
            return
        spec = ModelSpec(model.image, model.model_data_url, model.execution_role_arn)

        def observe(state: EndpointState) -> None:
            if state.status != "Creating":
                self._settle(key, hosted, state.status, state.failure_reason, model.variant_name)

        healthy = self._context.fault.endpoints_healthy
        hosted = HostedEndpoint(key[2], spec, access, observe, healthy=healthy)
        with self._lock:
            endpoint = self._endpoints.get(key)
            if endpoint is not None:
                endpoint.pending.append(hosted)
        hosted.start()

    def _settle(
        self,
        key: Key,
        hosted: HostedEndpoint | None,
        status: str,
        reason: str | None,
        variant_name: str = "",
    ) -> None:
        """A container finished starting: it serves (the old one stops), or the endpoint
        fails with its reason."""
        retired: HostedEndpoint | None = None
        with self._lock:
            endpoint = self._endpoints.get(key)
            if endpoint is None:  # deleted meanwhile: its containers are being stopped
                return
            if hosted is not None and hosted in endpoint.pending:
                endpoint.pending.remove(hosted)
            endpoint.status = status
            if status == "InService":
                retired, endpoint.serving = endpoint.serving, hosted
                endpoint.variant_name = variant_name
            self._record(key, status, reason)
        if retired is not None:
            self._context.background(f"retire-endpoint-{key[2]}", retired.stop)

    @staticmethod
    def _record(
        key: Key, status: str, reason: str | None = None, config_name: str | None = None
    ) -> None:
        moto_state.set_endpoint_status(*key, status, reason, config_name)


def _stop_all(endpoint: _Endpoint, bound_s: float | None = None) -> list[str]:
    """Stop the endpoint's servers; the names of those whose start is still running."""
    hosted = [*endpoint.pending, *([endpoint.serving] if endpoint.serving else [])]
    return [f"endpoint {h.name}" for h in hosted if not h.stop(bound_s)]
