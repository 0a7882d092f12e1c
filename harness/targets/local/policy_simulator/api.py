"""The ``iam`` local service for ``SimulatePrincipalPolicy`` and ``SimulateCustomPolicy``:
moto answers every other IAM operation (its simulator evaluates nothing).

The gateway has already authorized the call as AWS does (``iam:SimulatePrincipalPolicy`` on
the ``PolicySourceArn``, ``iam:SimulateCustomPolicy`` on ``*``). Results come one per
(action, resource) pair, actions outer, and page with ``MaxItems`` (default 100) and the
``Marker`` of the previous page. ``ResourceHandlingOption`` is accepted without effect: no
scenario needs several resources of one action here.
"""

from __future__ import annotations

from harness import service_models
from harness.gateway.errors import render_service_error
from harness.gateway.request_ids import new_request_id
from harness.targets.local.gateway import ServedCall, WsgiApp
from harness.targets.local.policy_simulator.inputs import (
    actions_of,
    resources_of,
    simulation_of,
)
from harness.targets.local.policy_simulator.query_xml import query_answer
from harness.targets.local.policy_simulator.simulation import SimulationError, invalid_input

OPERATIONS = frozenset({"SimulatePrincipalPolicy", "SimulateCustomPolicy"})
_DEFAULT_PAGE = 100


class PolicySimulator:
    """A ``LocalService`` for ``iam``: the two simulate operations, nothing else."""

    def __call__(self, served: ServedCall) -> WsgiApp | None:
        call = served.call
        if call.operation not in OPERATIONS:
            return None
        try:
            simulation = simulation_of(call.operation, call.params, served.credential.account_id)
            results = [
                simulation.result(action, resource)
                for action in actions_of(call.params)
                for resource in resources_of(call.params)
            ]
            start = _start(call.params.get("Marker"), len(results))
        except SimulationError as error:
            return render_service_error(
                served.protocol,
                error.code,
                str(error),
                error.status,
                request_id=new_request_id(),  # the gateway answers with its own id
                method=served.method,
            )
        end = start + int(call.params.get("MaxItems") or _DEFAULT_PAGE)
        page = {"EvaluationResults": results[start:end], "IsTruncated": end < len(results)}
        if end < len(results):
            page["Marker"] = str(end)
        return query_answer(
            service_models.service_model("iam").operation_model(call.operation), page
        )


def _start(marker: str | None, count: int) -> int:
    """Where a page starts: the previous page's ``Marker`` is the index of its next item."""
    if marker is None:
        return 0
    if not marker.isdigit() or int(marker) >= count:
        raise invalid_input(f"Marker {marker!r} does not continue this simulation.")
    return int(marker)
