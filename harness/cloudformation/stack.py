"""A stack's state and the create/update/delete operations that change it, with the statuses,
events and rollbacks CloudFormation has."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from harness.cloudformation.errors import ResourceFailure, ValidationError
from harness.cloudformation.plan import Output, Plan
from harness.cloudformation.providers import provider_for
from harness.cloudformation.providers.base import ClientFactory, Provider, ProviderContext

_LOG = logging.getLogger(__name__)

ExportClaim = Callable[["Stack", dict[str, Output]], None]
"""Registers a stack's exports; raises `ResourceFailure` when a name is taken."""
BeforeProvider = Callable[[str, str, str], None]
"""(stack name, logical id, resource type) before a resource's create: a drill's fault."""


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ResourceState:
    """A resource the stack created: what Ref/GetAtt return and the properties it has."""

    logical_id: str
    type: str
    physical_id: str
    properties: dict[str, Any]
    attributes: dict[str, Any]
    status: str
    reason: str | None = None
    updated: datetime = field(default_factory=now)


@dataclass(frozen=True)
class StackEvent:
    event_id: str
    logical_id: str
    physical_id: str
    type: str
    status: str
    reason: str | None
    timestamp: datetime


@dataclass
class Stack:
    """One stack. `plan` is the template currently deployed (the previous one after a rollback)."""

    stack_id: str
    name: str
    plan: Plan
    body: str
    capabilities: list[str]
    role_arn: str | None
    tags: list[dict[str, str]]
    disable_rollback: bool = False
    status: str = "CREATE_IN_PROGRESS"
    reason: str | None = None
    created: datetime = field(default_factory=now)
    updated: datetime | None = None
    deleted: datetime | None = None
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, Output] = field(default_factory=dict)
    events: list[StackEvent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    operation: Operation | None = None  # the one running, or the last one

    def event(
        self,
        logical_id: str,
        type_name: str,
        status: str,
        physical_id: str = "",
        reason: str | None = None,
    ) -> None:
        """Record an event (newest last; the API reverses)."""
        self.events.append(
            StackEvent(str(uuid.uuid4()), logical_id, physical_id, type_name, status, reason, now())
        )

    def set_status(self, status: str, reason: str | None = None) -> None:
        """Change the stack status and record the stack-level event."""
        self.status, self.reason = status, reason
        if status.startswith("UPDATE"):
            self.updated = now()
        self.event(self.name, "AWS::CloudFormation::Stack", status, self.stack_id, reason)

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS")


class Change(NamedTuple):
    """One resource change of an update, kept to undo it: `kind` is created, updated or
    replaced; `before` is the state to return to (None for a created resource)."""

    kind: str
    before: ResourceState | None
    after: ResourceState


class Abandoned(Exception):
    """The operation was abandoned (the stack is being deleted): it changes nothing more."""


class StepFailed(Exception):
    """A resource step of an update failed (already recorded as an event)."""

    def __init__(self, logical_id: str, verb: str) -> None:
        super().__init__(logical_id)
        self.logical_id, self.verb = logical_id, verb


class StackLookup:
    """Ref/GetAtt from the resources a stack has actually created."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def _state(self, logical_id: str) -> ResourceState:
        state = self.stack.resources.get(logical_id)
        if state is None:
            raise ValidationError(f"Resource {logical_id} has not been created")
        return state

    def ref(self, logical_id: str) -> Any:
        return self._state(logical_id).physical_id

    def get_att(self, logical_id: str, attribute: str) -> Any:
        state = self._state(logical_id)
        if attribute not in state.attributes:
            raise ResourceFailure(
                f"Attribute {attribute} of {logical_id} ({state.type}) is not available from "
                "the local CloudFormation engine"
            )
        return state.attributes[attribute]


class Operation:
    """Runs one create, update or delete of `stack` with clients from `clients`."""

    def __init__(
        self,
        stack: Stack,
        clients: ClientFactory,
        claim_exports: ExportClaim,
        before_provider: BeforeProvider | None = None,
    ) -> None:
        self.stack, self.clients, self.claim_exports = stack, clients, claim_exports
        self.before_provider = before_provider  # a drill's fault, else None
        self.abandoned = threading.Event()

    def abandon(self) -> None:
        """Stop this operation where it stands: a resource step still running (a stuck
        service call) is undone when it returns, and nothing more is created."""
        self.abandoned.set()

    def _context(self, plan: Plan, logical_id: str, salt: str = "") -> ProviderContext:
        naming = plan.naming(logical_id, salt)
        return ProviderContext(**vars(naming), clients=self.clients)

    @staticmethod
    def _provider(type_name: str) -> Provider:
        provider = provider_for(type_name)
        if provider is None:
            raise ResourceFailure(
                f"Resource type {type_name} is not supported by the local CloudFormation engine"
            )
        return provider

    def _desired(self, plan: Plan, logical_id: str, provider: Provider) -> dict[str, Any]:
        """Resolved properties plus the stack's tags, which CloudFormation propagates to every
        resource that takes tags (the resource's own tag wins on a clash)."""
        properties = plan.properties(logical_id)
        if not self.stack.tags or "Tags" not in provider.supported:
            return properties
        own = properties.get("Tags", [])
        inherited = [t for t in self.stack.tags if t["Key"] not in {o["Key"] for o in own}]
        return properties | {"Tags": inherited + own}

    def _create(self, plan: Plan, logical_id: str, salt: str = "") -> ResourceState:
        """Create one resource, recording its events; raise `ResourceFailure` on failure."""
        type_name = plan.resources[logical_id]["Type"]
        self.stack.event(logical_id, type_name, "CREATE_IN_PROGRESS")
        provider = self._provider(type_name)
        properties = self._desired(plan, logical_id, provider)
        provider.check(logical_id, properties)
        ctx = self._context(plan, logical_id, salt)
        if self.before_provider is not None:
            self.before_provider(self.stack.name, logical_id, type_name)
        created = provider.create(ctx, properties)
        if self.abandoned.is_set():  # the stack went on to be deleted meanwhile
            provider.delete(ctx, created.physical_id, properties)
            raise Abandoned(logical_id)
        attributes = provider.attributes(ctx, created.physical_id, properties) | created.attributes
        self.stack.event(logical_id, type_name, "CREATE_COMPLETE", created.physical_id)
        return ResourceState(
            logical_id, type_name, created.physical_id, properties, attributes, "CREATE_COMPLETE"
        )

    def _delete(self, plan: Plan, state: ResourceState, retain: bool) -> None:
        """Delete one resource (or skip it when its policy says Retain)."""
        stack = self.stack
        if retain:
            stack.event(state.logical_id, state.type, "DELETE_SKIPPED", state.physical_id)
            return
        stack.event(state.logical_id, state.type, "DELETE_IN_PROGRESS", state.physical_id)
        provider = self._provider(state.type)
        provider.delete(self._context(plan, state.logical_id), state.physical_id, state.properties)
        stack.event(state.logical_id, state.type, "DELETE_COMPLETE", state.physical_id)

    def _delete_all(
        self,
        plan: Plan,
        states: list[ResourceState],
        policy: str = "DeletionPolicy",
        create_rollback: bool = False,
    ) -> list[str]:
        """Delete `states` in order, continuing past failures, honouring `policy` (a replaced
        resource follows UpdateReplacePolicy); return the logical ids that failed."""
        failures = []
        for state in states:
            retain = plan.retains(state.logical_id, policy, create_rollback)
            try:
                self._delete(plan, state, retain)
            except Exception as error:
                reason = failure_reason(self.stack.name, f"DELETE {state.logical_id}", error)
                self.stack.event(
                    state.logical_id, state.type, "DELETE_FAILED", state.physical_id, reason
                )
                failures.append(state.logical_id)
            else:
                if self.stack.resources.get(state.logical_id) is state:
                    del self.stack.resources[state.logical_id]
        return failures

    def _record_failure(self, logical_id: str, type_name: str, verb: str, error: Exception) -> None:
        reason = failure_reason(self.stack.name, f"{verb} {logical_id}", error)
        state = self.stack.resources.get(logical_id)
        self.stack.event(
            logical_id, type_name, f"{verb}_FAILED", state.physical_id if state else "", reason
        )

    def _finish_outputs(self, plan: Plan) -> None:
        outputs = plan.outputs()
        self.claim_exports(self.stack, outputs)
        self.stack.outputs = outputs

    def create(self) -> None:
        """CREATE_IN_PROGRESS -> CREATE_COMPLETE, or CREATE_FAILED and rollback."""
        stack, plan = self.stack, self.stack.plan
        plan.lookup = StackLookup(stack)
        stack.set_status("CREATE_IN_PROGRESS", "User Initiated")
        failed = None
        for logical_id in plan.order:
            if self.abandoned.is_set():
                return  # the delete that abandoned it owns the stack now
            try:
                stack.resources[logical_id] = self._create(plan, logical_id)
            except Exception as error:
                if self.abandoned.is_set():
                    return
                self._record_failure(
                    logical_id, plan.resources[logical_id]["Type"], "CREATE", error
                )
                failed = logical_id
                break
        if failed is None:
            try:
                self._finish_outputs(plan)
            except Exception as error:
                stack.event(
                    stack.name, "AWS::CloudFormation::Stack", "CREATE_FAILED", "", str(error)
                )
                failed = stack.name
            else:
                if not self.abandoned.is_set():
                    stack.set_status("CREATE_COMPLETE")
                return
        reason = f"The following resource(s) failed to create: [{failed}]. "
        if stack.disable_rollback:
            stack.set_status("CREATE_FAILED", reason)
            return
        stack.set_status("ROLLBACK_IN_PROGRESS", reason + "Rollback requested by user.")
        created = [stack.resources[n] for n in reversed(plan.order) if n in stack.resources]
        failures = self._delete_all(plan, created, create_rollback=True)
        if failures:
            stack.set_status(
                "ROLLBACK_FAILED",
                f"The following resource(s) failed to delete: [{', '.join(failures)}]. ",
            )
        else:
            stack.set_status("ROLLBACK_COMPLETE", stack.reason)

    def delete(self) -> None:
        """DELETE_IN_PROGRESS -> DELETE_COMPLETE (or DELETE_FAILED naming what stayed)."""
        stack, plan = self.stack, self.stack.plan
        stack.set_status("DELETE_IN_PROGRESS", "User Initiated")
        order = [n for n in reversed(plan.order) if n in stack.resources]
        order += [n for n in stack.resources if n not in order]
        failures = self._delete_all(plan, [stack.resources[n] for n in order])
        if failures:
            stack.set_status(
                "DELETE_FAILED",
                f"The following resource(s) failed to delete: [{', '.join(failures)}]. ",
            )
            return
        stack.outputs = {}
        self.claim_exports(stack, {})
        stack.deleted = now()
        stack.set_status("DELETE_COMPLETE")

    def update(self, new_plan: Plan, body: str) -> None:
        """UPDATE_IN_PROGRESS -> UPDATE_COMPLETE, or UPDATE_ROLLBACK_COMPLETE restoring the
        previous template's resources."""
        stack, old_plan = self.stack, self.stack.plan
        new_plan.lookup = StackLookup(stack)
        stack.set_status("UPDATE_IN_PROGRESS", "User Initiated")
        changes: list[Change] = []
        try:
            for logical_id in new_plan.order:
                change = self._update_resource(new_plan, logical_id)
                if change is not None:
                    changes.append(change)
            self._finish_outputs(new_plan)
        except StepFailed as failed:
            reason = f"The following resource(s) failed to {failed.verb}: [{failed.logical_id}]. "
            self._roll_back_update(old_plan, new_plan, changes, reason)
            return
        except Exception as error:
            self._roll_back_update(old_plan, new_plan, changes, f"Outputs failed: {error}")
            return
        stack.plan, stack.body = new_plan, body
        stack.set_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        replaced = [c.before for c in reversed(changes) if c.kind == "replaced" and c.before]
        removed = [
            stack.resources[n]
            for n in reversed(old_plan.order)
            if n not in new_plan.resources and n in stack.resources
        ]
        self._delete_all(old_plan, replaced, "UpdateReplacePolicy")
        self._delete_all(old_plan, removed)
        stack.set_status("UPDATE_COMPLETE")

    def _update_resource(self, plan: Plan, logical_id: str) -> Change | None:
        """Create, update in place or replace one resource; a failure is recorded as an
        event and raised as `StepFailed`."""
        stack = self.stack
        type_name = plan.resources[logical_id]["Type"]
        current = stack.resources.get(logical_id)
        try:
            if current is None:
                created = self._create(plan, logical_id)
                stack.resources[logical_id] = created
                return Change("created", None, created)
            provider = self._provider(type_name)
            properties = self._desired(plan, logical_id, provider)
            if properties == current.properties and type_name == current.type:
                return None
            provider.check(logical_id, properties)
            changed = {
                name
                for name in properties.keys() | current.properties.keys()
                if properties.get(name) != current.properties.get(name)
            }
            if type_name != current.type or changed & provider.replacing_properties():
                return self._replace(plan, logical_id, provider, properties, current)
            stack.event(logical_id, type_name, "UPDATE_IN_PROGRESS", current.physical_id)
            ctx = self._context(plan, logical_id)
            attributes = provider.update(ctx, current.physical_id, current.properties, properties)
            updated = ResourceState(
                logical_id,
                type_name,
                current.physical_id,
                properties,
                current.attributes | attributes,
                "UPDATE_COMPLETE",
            )
            stack.resources[logical_id] = updated
            stack.event(logical_id, type_name, "UPDATE_COMPLETE", current.physical_id)
            return Change("updated", current, updated)
        except Exception as error:
            verb = "update" if current else "create"
            self._record_failure(logical_id, type_name, verb.upper(), error)
            raise StepFailed(logical_id, verb) from error

    def _replace(
        self,
        plan: Plan,
        logical_id: str,
        provider: Provider,
        properties: dict[str, Any],
        current: ResourceState,
    ) -> Change:
        """Create the replacement first (as CloudFormation does); the old one goes at cleanup."""
        salt = uuid.uuid4().hex
        if provider.physical_id(plan.naming(logical_id, salt), properties) == current.physical_id:
            raise ResourceFailure(
                "CloudFormation cannot update a stack when a custom-named resource requires "
                f"replacing. Rename {current.physical_id} and update the stack again."
            )
        self.stack.event(
            logical_id,
            current.type,
            "UPDATE_IN_PROGRESS",
            current.physical_id,
            "Requested update requires the creation of a new physical resource; hence creating "
            "one.",
        )
        replacement = self._create(plan, logical_id, salt)
        self.stack.resources[logical_id] = replacement
        return Change("replaced", current, replacement)

    def _roll_back_update(
        self, old_plan: Plan, new_plan: Plan, changes: list[Change], reason: str
    ) -> None:
        """Undo `changes` newest first: updated resources get their old properties back,
        replaced ones their old physical resource; what the update created is deleted."""
        stack = self.stack
        stack.set_status("UPDATE_ROLLBACK_IN_PROGRESS", reason)
        old_plan.lookup = StackLookup(stack)
        failures = []
        for change in reversed(changes):
            before, after = change.before, change.after
            if before is None:
                continue
            try:
                if change.kind == "updated":
                    provider = self._provider(before.type)
                    stack.event(
                        before.logical_id, before.type, "UPDATE_IN_PROGRESS", before.physical_id
                    )
                    provider.update(
                        self._context(old_plan, before.logical_id),
                        before.physical_id,
                        after.properties,
                        before.properties,
                    )
                    stack.event(
                        before.logical_id, before.type, "UPDATE_COMPLETE", before.physical_id
                    )
                stack.resources[before.logical_id] = before
            except Exception as failure:
                self._record_failure(before.logical_id, before.type, "UPDATE", failure)
                failures.append(before.logical_id)
        stack.set_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        leftovers = [c.after for c in reversed(changes) if c.kind in ("created", "replaced")]
        failures += self._delete_all(new_plan, leftovers)
        if failures:
            stack.set_status(
                "UPDATE_ROLLBACK_FAILED",
                f"The following resource(s) failed to roll back: [{', '.join(failures)}]. ",
            )
        else:
            stack.set_status("UPDATE_ROLLBACK_COMPLETE")


def failure_reason(stack: str, step: str, error: Exception) -> str:
    """The one-line cause a stack event shows; an unexpected error (a provider's fault, not
    the request's) also leaves its traceback in the target's log."""
    if isinstance(error, ResourceFailure | ValidationError):
        return str(error)
    _LOG.error("stack %s: %s failed", stack, step, exc_info=error)
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"Internal failure: {type(error).__name__}: {first_line} (traceback in the target's log)"
