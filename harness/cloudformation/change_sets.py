"""Change sets: what ``aws cloudformation deploy``, CDK and many pipelines use instead of
CreateStack/UpdateStack. A change set is the CreateStack or UpdateStack request held back, with
the resource changes it would make; executing it sends that request to the same engine.

The stack of a CREATE change set is made when the set is executed (AWS shows it as
REVIEW_IN_PROGRESS before), so its id differs from the one CreateChangeSet answered.
"""

from __future__ import annotations

import datetime
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from harness.cloudformation.errors import ValidationError
from harness.cloudformation.plan import stack_arn
from harness.cloudformation.pseudo import partition_of
from harness.cloudformation.stack import Stack
from harness.cloudformation.template import load_template

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)


class InvalidChangeSetStatus(ValidationError):
    code = "InvalidChangeSetStatus"


class ChangeSetNotFound(ValidationError):
    code = "ChangeSetNotFound"


@dataclass
class ChangeSet:
    change_set_id: str
    name: str
    stack_id: str
    stack_name: str
    change_set_type: str  # CREATE or UPDATE
    request: dict[str, Any]  # the CreateStack / UpdateStack request it stands for
    changes: list[dict[str, Any]]
    status: str = "CREATE_COMPLETE"
    reason: str | None = None
    execution_status: str = "AVAILABLE"
    created: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))

    def describe(self) -> dict[str, Any]:
        return {
            "ChangeSetName": self.name,
            "ChangeSetId": self.change_set_id,
            "StackId": self.stack_id,
            "StackName": self.stack_name,
            "CreationTime": self.created,
            "Status": self.status,
            "StatusReason": self.reason,
            "ExecutionStatus": self.execution_status,
            "Parameters": self.request.get("Parameters", []),
            "Capabilities": self.request.get("Capabilities", []),
            "Changes": self.changes,
        }


def resource_changes(
    template: dict[str, Any], stack: Stack | None, parameters: dict[str, str]
) -> list[dict[str, Any]]:
    """Add, Modify and Remove per logical id, from the stack's template to ``template``; a
    changed parameter modifies every resource (the engine re-resolves them all)."""
    new = template.get("Resources", {})
    old = {} if stack is None else stack.plan.template.get("Resources", {})
    previous = {} if stack is None else {k: p.raw for k, p in stack.plan.parameters.items()}
    parameters_changed = any(previous.get(k, v) != v for k, v in parameters.items())

    def change(action: str, logical_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {
            "Type": "Resource",
            "ResourceChange": {
                "Action": action,
                "LogicalResourceId": logical_id,
                "ResourceType": spec.get("Type"),
            },
        }

    changes = [change("Add", i, spec) for i, spec in new.items() if i not in old]
    changes += [
        change("Modify", i, spec)
        for i, spec in new.items()
        if i in old and (spec != old[i] or parameters_changed)
    ]
    changes += [change("Remove", i, spec) for i, spec in old.items() if i not in new]
    if not changes and stack is not None and template != stack.plan.template:
        changes = [change("Modify", i, spec) for i, spec in new.items()]  # outputs and such
    return changes


class ChangeSets:
    """The change sets of every account and region, by id."""

    def __init__(self) -> None:
        self._sets: dict[str, ChangeSet] = {}
        self._lock = threading.Lock()

    def create(
        self,
        account_id: str,
        region: str,
        request: dict[str, Any],
        body: str,
        stack: Stack | None,
    ) -> ChangeSet:
        """Hold ``request`` back as a change set against ``stack`` (None: a new stack)."""
        name = request["ChangeSetName"]
        template = load_template(body)
        parameters = {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in request.get("Parameters", [])
        }
        changes = resource_changes(dict(template), stack, parameters)
        unique = str(uuid.uuid4())
        partition = partition_of(region)["partition"]
        change_set = ChangeSet(
            change_set_id=f"arn:{partition}:cloudformation:{region}:{account_id}:"
            f"changeSet/{name}/{unique}",
            name=name,
            stack_id=stack.stack_id
            if stack is not None
            else stack_arn(account_id, region, request["StackName"], unique),
            stack_name=request["StackName"],
            change_set_type="UPDATE" if stack is not None else "CREATE",
            request=request,
            changes=changes,
        )
        if not changes:
            change_set.status, change_set.reason = "FAILED", NO_CHANGES
            change_set.execution_status = "UNAVAILABLE"
        with self._lock:
            self._sets[change_set.change_set_id] = change_set
        return change_set

    def find(self, account_id: str, name_or_id: str, stack_name: str | None) -> ChangeSet:
        with self._lock:
            for change_set in self._sets.values():
                owner = change_set.change_set_id.split(":")[4]
                by_id = change_set.change_set_id == name_or_id
                by_name = change_set.name == name_or_id and stack_name in (
                    change_set.stack_name,
                    change_set.stack_id,
                )
                if owner == account_id and (by_id or by_name):
                    return change_set
        raise ChangeSetNotFound(f"ChangeSet [{name_or_id}] does not exist")

    def of_stack(self, account_id: str, stack_name: str) -> list[ChangeSet]:
        with self._lock:
            return [
                c
                for c in self._sets.values()
                if c.change_set_id.split(":")[4] == account_id
                and stack_name in (c.stack_name, c.stack_id)
            ]

    def executed(self, change_set: ChangeSet) -> None:
        """Mark it executed; the stack's other change sets go, as on AWS."""
        if change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
                f"status of [{change_set.status}]"
            )
        with self._lock:
            change_set.execution_status = "EXECUTE_COMPLETE"
            for other in list(self._sets.values()):
                same_stack = other.stack_name == change_set.stack_name
                same_owner = (
                    other.change_set_id.split(":")[4] == change_set.change_set_id.split(":")[4]
                )
                if other is not change_set and same_stack and same_owner:
                    del self._sets[other.change_set_id]

    def delete(self, change_set: ChangeSet) -> None:
        with self._lock:
            self._sets.pop(change_set.change_set_id, None)
