"""The stacks of one CloudFormation endpoint (all accounts and regions behind it): request
validation, capability checks, exports, and running each operation in a worker thread so
callers see *_IN_PROGRESS and then a terminal status, as on AWS."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.cloudformation.errors import (
    AlreadyExistsError,
    InsufficientCapabilitiesError,
    ResourceFailure,
    ValidationError,
)
from harness.cloudformation.plan import Output, Plan, stack_arn
from harness.cloudformation.providers.base import ClientFactory
from harness.cloudformation.stack import BeforeProvider, Operation, Stack
from harness.deadlines import Changes, Workers

STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")
UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the account the stacks belong to, the region, and the access key (so
    the client factory can act as the caller when the request names no RoleARN)."""

    account_id: str
    region: str
    access_key_id: str | None = None


ClientsFor = Callable[[Caller, str | None], ClientFactory]
"""(caller, role ARN or None) -> factory of boto3 clients acting as that role / the caller.
Called while the request is handled, so a `ValidationError` it raises (a role that cannot be
assumed) rejects the request as CloudFormation does, before any stack state changes."""


class CloudFormationService:
    """In-memory stacks plus the operations on them."""

    def __init__(
        self,
        clients_for: ClientsFor,
        run_in_background: bool = True,
        before_provider: BeforeProvider | None = None,
    ) -> None:
        self.clients_for = clients_for
        self.run_in_background = run_in_background
        self.before_provider = before_provider  # a drill's fault (targets.local.faults)
        self._stacks: dict[str, Stack] = {}
        self._exports: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
        self._workers = Workers("stack operation")
        self._lock = threading.Lock()
        self.changes = Changes()
        """Notified when a stack operation ends, for whoever waits for a stack to settle."""

    def create_stack(
        self,
        caller: Caller,
        name: str,
        body: str,
        parameters: Mapping[str, str],
        capabilities: list[str],
        role_arn: str | None = None,
        disable_rollback: bool = False,
        tags: list[dict[str, str]] | None = None,
    ) -> Stack:
        """Validate and start creating a stack; returns it in CREATE_IN_PROGRESS."""
        if not STACK_NAME.fullmatch(name):
            raise ValidationError(
                f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
            )
        with self._lock:
            if self._find(caller, name) is not None:
                raise AlreadyExistsError(f"Stack [{name}] already exists")
            stack_id = stack_arn(caller.account_id, caller.region, name, str(uuid.uuid4()))
            plan = self._plan(caller, name, stack_id, body, parameters)
            self._check_capabilities(plan, capabilities)
            clients = self.clients_for(caller, role_arn)
            stack = Stack(
                stack_id=stack_id,
                name=name,
                plan=plan,
                body=body,
                capabilities=list(capabilities),
                role_arn=role_arn,
                tags=list(tags or []),
                disable_rollback=disable_rollback,
            )
            self._stacks[stack_id] = stack
        self._run(stack, clients, lambda op: op.create())
        return stack

    def update_stack(
        self,
        caller: Caller,
        name: str,
        body: str | None,
        parameters: Mapping[str, str | None],
        capabilities: list[str],
        role_arn: str | None = None,
    ) -> Stack:
        """Validate and start an update. `body` None reuses the current template; a parameter
        value None reuses its previous value (UsePreviousValue)."""
        stack = self.stack(caller, name)
        with stack.lock:
            if stack.status not in UPDATABLE:
                raise ValidationError(
                    f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
                )
            body = stack.body if body is None else body
            previous = stack.plan.parameters
            given = {
                key: (previous[key].raw if key in previous else "") if value is None else value
                for key, value in parameters.items()
            }
            plan = self._plan(caller, stack.name, stack.stack_id, body, given)
            self._check_capabilities(plan, capabilities)
            if plan.template == stack.plan.template and plan.parameters == stack.plan.parameters:
                raise ValidationError("No updates are to be performed.")
            clients = self.clients_for(caller, role_arn or stack.role_arn)
            stack.capabilities = list(capabilities)
            stack.role_arn = role_arn or stack.role_arn
            stack.status = "UPDATE_IN_PROGRESS"
        self._run(stack, clients, lambda op: op.update(plan, body))
        return stack

    def delete_stack(self, caller: Caller, name: str, role_arn: str | None = None) -> None:
        """Start deleting a stack; deleting one that does not exist is not an error (as AWS).
        A create still in progress (a stuck resource) is abandoned and what it made deleted,
        as CloudFormation cancels a create to delete; other operations in progress go on."""
        stack = self._find(caller, name)
        if stack is None or stack.status == "DELETE_COMPLETE":
            return
        with stack.lock:
            if stack.status == "CREATE_IN_PROGRESS" and stack.operation is not None:
                stack.operation.abandon()
            elif stack.in_progress:
                return
            clients = self.clients_for(caller, role_arn or stack.role_arn)
            stack.status = "DELETE_IN_PROGRESS"
            stack.role_arn = role_arn or stack.role_arn
        self._run(stack, clients, lambda op: op.delete())

    def stack(self, caller: Caller, name_or_id: str) -> Stack:
        """A stack by name (live stacks) or id (also deleted ones)."""
        stack = self._find(caller, name_or_id)
        if stack is None:
            raise ValidationError(f"Stack with id {name_or_id} does not exist")
        return stack

    def stacks(self, caller: Caller, include_deleted: bool = False) -> list[Stack]:
        """The caller's stacks (live ones unless `include_deleted`), oldest first."""
        return [
            s
            for s in self._stacks.values()
            if self._owned(caller, s) and (include_deleted or s.status != "DELETE_COMPLETE")
        ]

    def wait(self, bound_s: float | None = None) -> list[str]:
        """Wait for every started operation within ``bound_s`` (default the ``stop`` bound);
        the operations still running, by stack."""
        return self._workers.join(bound_s)

    def export_records(self, caller: Caller) -> dict[str, tuple[str, str]]:
        """Export name -> (exporting stack id, value) in the caller's account and region."""
        return dict(self._exports.get((caller.account_id, caller.region), {}))

    def exports(self, caller: Caller) -> dict[str, str]:
        """Export name -> value in the caller's account and region."""
        return {name: value for name, (_, value) in self.export_records(caller).items()}

    @staticmethod
    def _owned(caller: Caller, stack: Stack) -> bool:
        return stack.stack_id.split(":")[3:5] == [caller.region, caller.account_id]

    def _find(self, caller: Caller, name_or_id: str) -> Stack | None:
        if name_or_id in self._stacks:
            stack = self._stacks[name_or_id]
            return stack if self._owned(caller, stack) else None
        for stack in self._stacks.values():
            if (
                stack.name == name_or_id
                and stack.status != "DELETE_COMPLETE"
                and self._owned(caller, stack)
            ):
                return stack
        return None

    def _plan(
        self, caller: Caller, name: str, stack_id: str, body: str, parameters: Mapping[str, Any]
    ) -> Plan:
        return Plan(
            body,
            parameters,
            caller.account_id,
            caller.region,
            name,
            stack_id,
            exports=self.exports(caller),
        )

    @staticmethod
    def _check_capabilities(plan: Plan, capabilities: list[str]) -> None:
        needed = plan.required_capability()
        granted = set(capabilities)
        if needed == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in granted:
            return
        if needed is not None and needed not in granted:
            raise InsufficientCapabilitiesError(f"Requires capabilities : [{needed}]")

    def _claim_exports(self, stack: Stack, outputs: dict[str, Output]) -> None:
        """Replace `stack`'s exports with those of `outputs`; names are unique per region."""
        account, region = stack.stack_id.split(":")[4], stack.stack_id.split(":")[3]
        with self._lock:
            table = self._exports.setdefault((account, region), {})
            for output in outputs.values():
                owner = table.get(output.export_name or "")
                if owner is not None and owner[0] != stack.stack_id:
                    raise ResourceFailure(
                        f"Export with name {output.export_name} is already exported by stack "
                        f"{self._stacks[owner[0]].name}"
                    )
            for name in [n for n, (owner, _) in table.items() if owner == stack.stack_id]:
                del table[name]
            for output in outputs.values():
                if output.export_name:
                    table[output.export_name] = (stack.stack_id, str(output.value))

    def _run(
        self, stack: Stack, clients: ClientFactory, action: Callable[[Operation], None]
    ) -> None:
        operation = Operation(stack, clients, self._claim_exports, self.before_provider)
        stack.operation = operation
        if not self.run_in_background:
            action(operation)
            return
        self._workers.start(f"{stack.name} ({stack.status})", self._notifying(action), operation)

    def _notifying(self, action: Callable[[Operation], None]) -> Callable[[Operation], None]:
        def run(operation: Operation) -> None:
            try:
                action(operation)
            finally:
                self.changes.notify()

        return run
