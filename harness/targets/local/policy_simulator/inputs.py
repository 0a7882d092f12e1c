"""A simulate request's parameters, checked as IAM checks them, into a :class:`Simulation`.

``SimulatePrincipalPolicy`` reads the user's, group's or role's own policies (a user's also
through its groups) and its boundary from moto's IAM state; ``SimulateCustomPolicy`` takes
only the policies given. The simulated caller is ``CallerArn`` (an IAM user, group or role),
else the ``PolicySourceArn`` entity; a ``ResourcePolicy`` needs one of them to match its
``Principal`` elements. Without either, the caller is a placeholder user of the requester's
account (its principal keys name that placeholder unless context entries give them). A
group as caller has no principal of its own: it is simulated as a user with the group's ARN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from harness.policy import Kind, Principal
from harness.policy.arns import iam_entity
from harness.policy.evaluate import ContextValue
from harness.targets.local import moto_state
from harness.targets.local.policy_simulator.simulation import (
    Simulation,
    SimulationError,
    Source,
    invalid_input,
)

_ACCOUNT_ROOT = re.compile(r"arn:[\w-]+:iam::(\d{12}):root\Z")
_ACTION = re.compile(r"[\w-]+:[A-Za-z0-9]+\Z")
_LIST_TYPES = frozenset(
    {"stringList", "numericList", "booleanList", "ipList", "binaryList", "dateList"}
)
_UNSUPPORTED = ("PolicyExclusionList", "OrderedOrganizationPolicyInputList")


def actions_of(params: Mapping[str, Any]) -> list[str]:
    actions = list(params.get("ActionNames") or ())
    if not actions:
        raise invalid_input("ActionNames must name at least one action.")
    for action in actions:
        if not _ACTION.match(action):
            raise invalid_input(f"Action {action!r} is not a service:action name (no wildcards).")
    return actions


def resources_of(params: Mapping[str, Any]) -> list[str]:
    resources = list(params.get("ResourceArns") or ["*"])
    malformed = [r for r in resources if r != "*" and len(r.split(":", 5)) != 6]
    if malformed:
        raise invalid_input(f"ResourceArns are not in a valid ARN format: {', '.join(malformed)}")
    return resources


def simulation_of(operation: str, params: Mapping[str, Any], requester_account: str) -> Simulation:
    """The simulation ``params`` ask for (``SimulatePrincipalPolicy`` or
    ``SimulateCustomPolicy``); raises :class:`SimulationError` as IAM would."""
    for name in _UNSUPPORTED:
        if params.get(name):
            raise invalid_input(f"{name} is not simulated by the local target.")
    identity = [
        Source.parse(f"PolicyInputList.{number}", "IAM Policy", text)
        for number, text in enumerate(params.get("PolicyInputList") or (), start=1)
    ]
    boundaries = list(params.get("PermissionsBoundaryPolicyInputList") or ())
    if len(boundaries) > 1:
        raise invalid_input("Only one permissions boundary can be simulated at a time.")
    boundary = (
        Source.parse("PermissionsBoundaryPolicyInputList.1", "IAM Policy", boundaries[0])
        if boundaries
        else None
    )
    source_arn = params.get("PolicySourceArn") if operation == "SimulatePrincipalPolicy" else None
    if source_arn is not None:
        held = _entity(source_arn)
        identity = [_held_source(h) for h in held.identity] + identity
        if boundary is None and held.boundary is not None:
            boundary = _held_source(held.boundary)
    caller_arn = params.get("CallerArn") or source_arn
    resource_policy = params.get("ResourcePolicy")
    if resource_policy is not None and caller_arn is None:
        raise invalid_input("CallerArn is required to simulate a ResourcePolicy.")
    return Simulation(
        caller=_caller(caller_arn, requester_account),
        identity=tuple(identity),
        boundary=boundary,
        resource_policy=(
            Source.parse("ResourcePolicy", "Resource Policy", resource_policy)
            if resource_policy is not None
            else None
        ),
        resource_owner=_owner(params.get("ResourceOwner")),
        context=_context(params.get("ContextEntries") or ()),
    )


def _entity(arn: str) -> moto_state.EntityPolicies:
    entity = iam_entity(arn)
    if entity is None:
        raise invalid_input(f"PolicySourceArn {arn} is not the ARN of a user, group or role.")
    held = moto_state.entity_policies(arn)
    if held is None:
        message = f"The {entity.kind} with name {entity.name} cannot be found."
        raise SimulationError("NoSuchEntity", message, 404)
    return held


def _held_source(held: moto_state.HeldPolicy) -> Source:
    """An attached policy as AWS names it: inline by its holder's kind, managed by owner."""
    if held.arn is None:
        policy_type = held.holder
    else:
        policy_type = "aws-managed" if ":iam::aws:policy/" in held.arn else "user-managed"
    return Source.parse(held.name, policy_type, held.document)


def _caller(arn: str | None, requester_account: str) -> Principal:
    if arn is None:
        return Principal.from_arn(f"arn:aws:iam::{requester_account}:user/simulated-caller")
    entity = iam_entity(arn)
    if entity is None:
        raise invalid_input(f"CallerArn {arn} must be the ARN of an IAM user, group or role.")
    if entity.kind == "group":
        return Principal(Kind.USER, arn, account=entity.account, name=entity.name)
    return Principal.from_arn(arn)


def _owner(value: str | None) -> str | None:
    if value is None:
        return None
    found = _ACCOUNT_ROOT.match(value)
    if found is None:
        raise invalid_input(f"ResourceOwner {value!r} is not arn:aws:iam::<account id>:root.")
    return found[1]


def _context(entries: Sequence[Mapping[str, Any]]) -> dict[str, ContextValue]:
    """Context entries as condition keys: list types keep every value, the others one."""
    context: dict[str, ContextValue] = {}
    for entry in entries:
        name = entry.get("ContextKeyName")
        values = [str(v) for v in entry.get("ContextKeyValues") or ()]
        kind = entry.get("ContextKeyType") or "string"
        if not name:
            raise invalid_input("A context entry needs a ContextKeyName.")
        if kind.startswith("boolean"):
            values = [v.lower() for v in values]
        if kind in _LIST_TYPES:
            context[name] = tuple(values)
        elif len(values) == 1:
            context[name] = values[0]
        else:
            raise invalid_input(f"Context key {name} of type {kind} takes exactly one value.")
    return context
