"""What every resource provider implements, and the context it runs in.

Providers create, update and delete one resource type through boto3 clients from the caller's
factory, so the enforcement gateway sees each call as the stack's role. They also *predict*
physical ids and attributes without calling AWS, which is what `resolve()` uses for resources
that do not exist yet."""

from __future__ import annotations

import hashlib
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.client import BaseClient
from botocore.exceptions import ClientError, ParamValidationError

from harness.cloudformation import schemas
from harness.cloudformation.errors import ResourceFailure

ClientFactory = Callable[[str], BaseClient]
Properties = Mapping[str, Any]


def handler_message(error: ClientError, service_id: str) -> str:
    """CloudFormation's wording for a failed service call made by a resource handler."""
    detail = error.response.get("Error", {})
    meta = error.response.get("ResponseMetadata", {})
    message = detail.get("Message") or detail.get("Code") or str(error)
    status, request_id = meta.get("HTTPStatusCode", 400), meta.get("RequestId", "")
    return (
        f'Resource handler returned message: "{message} (Service: {service_id}, '
        f'Status Code: {status}, Request ID: {request_id})" '
        f"(HandlerErrorCode: {detail.get('Code', 'GeneralServiceException')})"
    )


class _ReportingClient:
    """A client whose service errors surface as `ResourceFailure` with the handler message."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client
        self._service_id = client.meta.service_model.service_id

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith(("get_waiter", "get_paginator")):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                raise ResourceFailure(handler_message(error, self._service_id), code) from error
            except ParamValidationError as error:
                message = f'Resource handler returned message: "{error}"'
                raise ResourceFailure(f"{message} (HandlerErrorCode: InvalidRequest)") from error

        return call


@dataclass(frozen=True)
class Naming:
    """Where a resource lives; enough to predict names and ARNs without calling AWS."""

    account_id: str
    region: str
    partition: str
    stack_name: str
    stack_id: str
    logical_id: str
    url_suffix: str = "amazonaws.com"
    salt: str = ""

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        """An ARN in this stack's partition, region and account."""
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )

    def generated_name(self, max_length: int = 64, lowercase: bool = False) -> str:
        """`<stack>-<logical id>-<suffix>` as CloudFormation generates for unnamed resources;
        the suffix is derived from the stack id (and `salt`, set for replacements)."""
        digest = hashlib.sha256(f"{self.stack_id}/{self.logical_id}/{self.salt}".encode())
        suffix = digest.hexdigest()[:12].upper()
        stem = f"{self.stack_name}-{self.logical_id}"[: max_length - len(suffix) - 1]
        name = f"{stem}-{suffix}"
        return name.lower() if lowercase else name

    def generated_uuid(self) -> str:
        """A stand-in for an id AWS assigns (e.g. a KMS key id), stable for this resource."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.stack_id}/{self.logical_id}/{self.salt}"))


@dataclass(frozen=True)
class ProviderContext(Naming):
    """A `Naming` plus the client factory the provider must use for every call."""

    clients: ClientFactory | None = None

    def client(self, service: str) -> Any:
        """A client for `service` (as the stack's role) that reports errors as handler messages."""
        if self.clients is None:
            raise ResourceFailure("No client factory: resources cannot be changed in this mode")
        return _ReportingClient(self.clients(service))


@dataclass(frozen=True)
class Created:
    """Result of a create: the physical id (what Ref returns) and readable attributes."""

    physical_id: str
    attributes: dict[str, Any]


@contextmanager
def tolerating(*codes: str) -> Iterator[None]:
    """Swallow a failed call whose error code says the thing is already gone (deletes)."""
    try:
        yield
    except ResourceFailure as failure:
        if failure.code not in codes:
            raise


def policy_text(document: Any) -> str:
    """IAM/KMS/S3 policy documents are objects in templates and JSON strings in the APIs."""
    return document if isinstance(document, str) else json.dumps(document)


def tag_list(tags: Any) -> list[dict[str, str]]:
    """Template `Tags` (a Key/Value list) in the Key/Value form most APIs take."""
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in tags or []]


def tag_map(tags: Any) -> dict[str, str]:
    """Template `Tags` as the key->value map some APIs (Lambda, CodeCommit, Logs) take."""
    return {str(t["Key"]): str(t["Value"]) for t in tags or []}


def retag(
    old: Properties,
    new: Properties,
    untag: Callable[[list[str]], object],
    tag: Callable[[Any], object],
) -> None:
    """Carry an update's change of the template `Tags` to the resource. Every service's tag
    call adds and overwrites but never removes, so the keys the update drops go to ``untag``
    (sorted) first; ``tag`` gets the new template `Tags`, in whatever form its API takes."""
    if old.get("Tags") == new.get("Tags"):
        return
    dropped = sorted(tag_map(old.get("Tags")).keys() - tag_map(new.get("Tags")).keys())
    if dropped:
        untag(dropped)
    if new.get("Tags"):
        tag(new["Tags"])


class Provider(ABC):
    """One resource type. `supported` lists the properties this provider honours; any other
    property the schema allows is an error naming it, never a silent skip."""

    type_name: ClassVar[str]
    supported: ClassVar[frozenset[str]]
    replaced_by: ClassVar[frozenset[str]] = frozenset()
    """Properties AWS documents as "Update requires: Replacement" beyond the schema's
    createOnlyProperties."""

    def replacing_properties(self) -> frozenset[str]:
        """Properties whose change makes CloudFormation replace the resource."""
        return schemas.create_only_properties(self.type_name) | self.replaced_by

    def check(self, logical_id: str, properties: Properties) -> None:
        """Reject properties the schema does not know, lacks, or this provider cannot apply."""
        allowed = schemas.properties(self.type_name)
        for name in properties:
            if name not in allowed:
                raise ResourceFailure(
                    f"Properties validation failed for resource {logical_id} with message: "
                    f"#: extraneous key [{name}] is not permitted"
                )
            if name not in self.supported:
                raise ResourceFailure(
                    f"Property {name} of resource {logical_id} ({self.type_name}) is not "
                    "supported by the local CloudFormation engine"
                )
        for name in sorted(schemas.required_properties(self.type_name) - set(properties)):
            raise ResourceFailure(
                f"Properties validation failed for resource {logical_id} with message: "
                f"#: required key [{name}] not found"
            )

    @abstractmethod
    def physical_id(self, naming: Naming, properties: Properties) -> str:
        """The id Ref will return, predicted from the properties (named or generated)."""

    @abstractmethod
    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        """GetAtt values derivable without calling AWS."""

    @abstractmethod
    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        """Create the resource and return its id and attributes."""

    @abstractmethod
    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        """Bring the resource from `old` to `new` in place (no create-only property changed)."""

    @abstractmethod
    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        """Delete the resource; a resource already gone is not an error."""
