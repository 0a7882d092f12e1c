"""The CloudFormation API (query protocol) as a WSGI app, to be mounted behind the
enforcement gateway for signing service `cloudformation`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from harness.cloudformation import query
from harness.cloudformation.change_sets import ChangeSets
from harness.cloudformation.errors import AlreadyExistsError, ValidationError
from harness.cloudformation.plan import required_capability
from harness.cloudformation.service import Caller, CloudFormationService
from harness.cloudformation.stack import Stack
from harness.cloudformation.template import load_template

DEFAULT_ACCOUNT = "123456789012"
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/")

AccountOf = Callable[[str | None], str]
"""Access key id (None if unsigned) -> account id the caller belongs to."""


def _parameters(stack: Stack) -> list[dict[str, str]]:
    return [
        {"ParameterKey": name, "ParameterValue": bound.shown}
        for name, bound in stack.plan.parameters.items()
    ]


def _outputs(stack: Stack) -> list[dict[str, Any]]:
    return [
        {
            "OutputKey": name,
            "OutputValue": ",".join(o.value) if isinstance(o.value, list) else str(o.value),
            "Description": o.description,
            "ExportName": o.export_name,
        }
        for name, o in stack.outputs.items()
    ]


def describe(stack: Stack) -> dict[str, Any]:
    """A `Stack` structure of DescribeStacks."""
    return {
        "StackId": stack.stack_id,
        "StackName": stack.name,
        "Description": stack.plan.template.get("Description"),
        "Parameters": _parameters(stack),
        "CreationTime": stack.created,
        "LastUpdatedTime": stack.updated,
        "DeletionTime": stack.deleted,
        "StackStatus": stack.status,
        "StackStatusReason": stack.reason,
        "DisableRollback": stack.disable_rollback,
        "Capabilities": stack.capabilities,
        "Outputs": _outputs(stack),
        "RoleARN": stack.role_arn,
        "Tags": stack.tags,
    }


class CloudFormationApi:
    """Dispatches query-protocol actions to a `CloudFormationService`."""

    def __init__(self, service: CloudFormationService, account_of: AccountOf | None = None):
        self.service = service
        self.account_of = account_of or (lambda _key: DEFAULT_ACCOUNT)
        self.change_sets = ChangeSets()

    def handle(self, form: Mapping[str, str], authorization: str = "") -> tuple[int, bytes]:
        """(status, XML body) for one request's form fields and Authorization header."""
        action = form.get("Action", "")
        handler = getattr(self, f"_{action}", None) if action.isalnum() else None
        if handler is None:
            return 400, query.error("InvalidAction", f"Could not find operation {action}")
        match = CREDENTIAL.search(authorization)
        key, region = (match.group(1), match.group(2)) if match else (None, "us-east-1")
        caller = Caller(self.account_of(key), region, key)
        operation = query.service_model().operation_model(action)
        request = query.parse(operation.input_shape, form)
        try:
            return 200, query.response(action, handler(caller, request))
        except ValidationError as failure:
            return 400, query.error(failure.code, str(failure))
        except Exception as failure:  # the API must answer, not drop the connection
            return 500, query.error("InternalFailure", repr(failure), sender=False)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        """WSGI entry point: form from the POST body (or query string)."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        form = dict(parse_qsl(body or environ.get("QUERY_STRING", ""), keep_blank_values=True))
        status, payload = self.handle(form, environ.get("HTTP_AUTHORIZATION", ""))
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _CreateStack(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        body = _template_body(request)
        stack = self.service.create_stack(
            caller,
            request["StackName"],
            body,
            {p["ParameterKey"]: p.get("ParameterValue", "") for p in request.get("Parameters", [])},
            request.get("Capabilities", []),
            role_arn=request.get("RoleARN"),
            disable_rollback=request.get("DisableRollback", False)
            or request.get("OnFailure") == "DO_NOTHING",
            tags=request.get("Tags", []),
        )
        return {"StackId": stack.stack_id}

    def _UpdateStack(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        body = None if request.get("UsePreviousTemplate") else _template_body(request)
        parameters = {
            p["ParameterKey"]: None if p.get("UsePreviousValue") else p.get("ParameterValue", "")
            for p in request.get("Parameters", [])
        }
        stack = self.service.update_stack(
            caller,
            request["StackName"],
            body,
            parameters,
            request.get("Capabilities", []),
            role_arn=request.get("RoleARN"),
        )
        return {"StackId": stack.stack_id}

    def _CreateChangeSet(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        name = request["StackName"]
        live = [s for s in self.service.stacks(caller) if name in (s.name, s.stack_id)]
        if request.get("ChangeSetType", "UPDATE") == "CREATE":
            if live:
                raise AlreadyExistsError(f"Stack [{name}] already exists")
            stack = None
        elif not live:
            raise ValidationError(f"Stack [{name}] does not exist")
        else:
            stack = live[0]
        use_previous = stack is not None and request.get("UsePreviousTemplate")
        body = stack.body if use_previous and stack is not None else _template_body(request)
        change_set = self.change_sets.create(caller.account_id, caller.region, request, body, stack)
        return {"Id": change_set.change_set_id, "StackId": change_set.stack_id}

    def _DescribeChangeSet(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        found = self.change_sets.find(
            caller.account_id, request["ChangeSetName"], request.get("StackName")
        )
        return found.describe()

    def _ExecuteChangeSet(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        found = self.change_sets.find(
            caller.account_id, request["ChangeSetName"], request.get("StackName")
        )
        self.change_sets.executed(found)
        if found.change_set_type == "CREATE":
            self._CreateStack(caller, found.request)
        else:
            self._UpdateStack(caller, found.request)
        return {}

    def _DeleteChangeSet(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        found = self.change_sets.find(
            caller.account_id, request["ChangeSetName"], request.get("StackName")
        )
        self.change_sets.delete(found)
        return {}

    def _ListChangeSets(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        sets = self.change_sets.of_stack(caller.account_id, request["StackName"])
        keys = ("ChangeSetId", "ChangeSetName", "StackId", "StackName", "Status")
        keys += ("StatusReason", "ExecutionStatus", "CreationTime")
        return {"Summaries": [{k: c.describe()[k] for k in keys} for c in sets]}

    def _DeleteStack(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        self.service.delete_stack(caller, request["StackName"], request.get("RoleARN"))
        return {}

    def _DescribeStacks(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        if "StackName" in request:
            stacks = [self.service.stack(caller, request["StackName"])]
        else:
            stacks = self.service.stacks(caller)
        return {"Stacks": [describe(s) for s in stacks]}

    def _ListStacks(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        wanted = set(request.get("StackStatusFilter", []))
        return {
            "StackSummaries": [
                {
                    "StackId": s.stack_id,
                    "StackName": s.name,
                    "TemplateDescription": s.plan.template.get("Description"),
                    "CreationTime": s.created,
                    "LastUpdatedTime": s.updated,
                    "DeletionTime": s.deleted,
                    "StackStatus": s.status,
                    "StackStatusReason": s.reason,
                }
                for s in reversed(self.service.stacks(caller, include_deleted=True))
                if not wanted or s.status in wanted
            ]
        }

    def _ListExports(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "Exports": [
                {"ExportingStackId": stack_id, "Name": name, "Value": value}
                for name, (stack_id, value) in self.service.export_records(caller).items()
            ]
        }

    def _DescribeStackEvents(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.stack(caller, request["StackName"])
        return {
            "StackEvents": [
                {
                    "StackId": stack.stack_id,
                    "EventId": e.event_id,
                    "StackName": stack.name,
                    "LogicalResourceId": e.logical_id,
                    "PhysicalResourceId": e.physical_id,
                    "ResourceType": e.type,
                    "Timestamp": e.timestamp,
                    "ResourceStatus": e.status,
                    "ResourceStatusReason": e.reason,
                }
                for e in reversed(list(stack.events))
            ]
        }

    def _ListStackResources(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.stack(caller, request["StackName"])
        return {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": r.logical_id,
                    "PhysicalResourceId": r.physical_id,
                    "ResourceType": r.type,
                    "LastUpdatedTimestamp": r.updated,
                    "ResourceStatus": r.status,
                }
                for r in list(stack.resources.values())
            ]
        }

    def _DescribeStackResources(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.stack(caller, request["StackName"])
        wanted = request.get("LogicalResourceId")
        return {
            "StackResources": [
                {
                    "StackName": stack.name,
                    "StackId": stack.stack_id,
                    "LogicalResourceId": r.logical_id,
                    "PhysicalResourceId": r.physical_id,
                    "ResourceType": r.type,
                    "Timestamp": r.updated,
                    "ResourceStatus": r.status,
                }
                for r in list(stack.resources.values())
                if wanted in (None, r.logical_id)
            ]
        }

    def _GetTemplate(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        stack = self.service.stack(caller, request["StackName"])
        return {"TemplateBody": stack.body, "StagesAvailable": ["Original", "Processed"]}

    def _ValidateTemplate(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        template = load_template(_template_body(request))
        parameters = [
            {
                "ParameterKey": name,
                "DefaultValue": None if "Default" not in spec else _text(spec["Default"]),
                "NoEcho": str(spec.get("NoEcho", "false")).lower() == "true",
                "Description": spec.get("Description"),
                "ParameterType": spec.get("Type"),  # GetTemplateSummary's; Validate's ignores it
            }
            for name, spec in template.get("Parameters", {}).items()
        ]
        needed = required_capability(template["Resources"].values())
        return {
            "Parameters": parameters,
            "Description": template.get("Description"),
            "Capabilities": [needed] if needed else [],
            "ResourceTypes": sorted({r["Type"] for r in template["Resources"].values()}),
        }

    def _GetTemplateSummary(self, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
        """The template's parameters (``aws cloudformation deploy`` reads the stack's)."""
        if "StackName" in request:
            request = {"TemplateBody": self.service.stack(caller, request["StackName"]).body}
        return self._ValidateTemplate(caller, request)


def _text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _template_body(request: Mapping[str, Any]) -> str:
    if "TemplateBody" in request:
        return request["TemplateBody"]
    if "TemplateURL" in request:
        raise ValidationError("TemplateURL is not supported by the local engine; send TemplateBody")
    raise ValidationError("Either Template URL or Template Body must be specified.")
