"""Find everything a run left in an account, by its run id, and remove it.

Discovery does not depend on the run having remembered what it made (it may have been killed):
resources are found by the run tag (Resource Groups Tagging API) and, for what is made without
tags (pipeline-deployed stacks, the pipeline, endpoints made by the deploy Lambda, roles), by
the run id prefixing their names. The same discovery, run after removal, is the leak check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.targets.base import StackFailed

RUN_TAG = "harness:run-id"
GONE = frozenset(
    {
        "NoSuchBucket",
        "NoSuchEntity",
        "NotFoundException",
        "ResourceNotFoundException",
        "PipelineNotFoundException",
        "KMSInvalidStateException",  # the stack already scheduled the key's deletion
        "ValidationException",  # SageMaker: could not find endpoint, config or model
    }
)
"""Error codes meaning the resource is already gone (another step removed it)."""
ClientOf = Callable[[str], BaseClient]
"""A client of a service in the account being swept."""


@dataclass(frozen=True)
class Found:
    kind: str
    name: str  # name or ARN, what the delete call takes

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def _paged(client: BaseClient, operation: str, key: str, **kwargs: object) -> Iterator[dict]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def tagged_arns(client: ClientOf, run_id: str) -> list[str]:
    tagging = client("resourcegroupstaggingapi")
    filters = [{"Key": RUN_TAG, "Values": [run_id]}]
    return [
        r["ResourceARN"]
        for r in _paged(tagging, "get_resources", "ResourceTagMappingList", TagFilters=filters)
    ]


def discover(client: ClientOf, run_id: str, arns: list[str] | None = None) -> list[Found]:
    """What of the run exists in the account, in removal order: endpoints before their configs
    and models, the pipeline, stacks newest first, then what stacks do not own. ``arns`` are
    the run's tagged resources when just asked for (``tagged_arns``), else asked for here."""
    prefix = f"{run_id}-"
    found: list[Found] = []
    sagemaker = client("sagemaker")
    for kind, operation, key, field in (
        ("endpoint", "list_endpoints", "Endpoints", "EndpointName"),
        ("endpoint config", "list_endpoint_configs", "EndpointConfigs", "EndpointConfigName"),
        ("model", "list_models", "Models", "ModelName"),
    ):
        found += [
            Found(kind, item[field])
            for item in _paged(sagemaker, operation, key, NameContains=run_id)
            if item[field].startswith(prefix)
        ]
    found += [
        Found("pipeline", p["name"])
        for p in _paged(client("codepipeline"), "list_pipelines", "pipelines")
        if p["name"] == run_id or p["name"].startswith(prefix)
    ]
    stacks = [
        s
        for s in _paged(client("cloudformation"), "list_stacks", "StackSummaries")
        if s["StackName"].startswith(prefix) and s["StackStatus"] != "DELETE_COMPLETE"
    ]
    stacks.sort(key=lambda s: s["CreationTime"], reverse=True)
    found += [Found("stack", s["StackName"]) for s in stacks]
    found += [
        Found("role", r["RoleName"])
        for r in _paged(client("iam"), "list_roles", "Roles")
        if r["RoleName"].startswith(prefix)
    ]
    found += [
        Found("alias", a["AliasName"])
        for a in _paged(client("kms"), "list_aliases", "Aliases")
        if a["AliasName"].startswith(f"alias/{prefix}")
    ]
    if arns is None:
        arns = tagged_arns(client, run_id)
    found += [
        Found("bucket", arn.split(":::", 1)[1]) for arn in arns if arn.startswith("arn:aws:s3:::")
    ]
    kms = client("kms")
    for arn in arns:
        if ":kms:" in arn and ":key/" in arn:
            state = kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"]
            if state != "PendingDeletion":
                found.append(Found("key", arn))
    return found


def empty_bucket(s3: BaseClient, bucket: str) -> None:
    """Delete every object version and delete marker (the bucket is versioned)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        objects = [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})


def _delete_role(iam: BaseClient, name: str) -> None:
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


def remove(client: ClientOf, item: Found, delete_stack: Callable[[str], None]) -> None:
    """Remove one found resource; ``delete_stack`` deletes a stack and waits for it."""
    if item.kind == "endpoint":
        client("sagemaker").delete_endpoint(EndpointName=item.name)
    elif item.kind == "endpoint config":
        client("sagemaker").delete_endpoint_config(EndpointConfigName=item.name)
    elif item.kind == "model":
        client("sagemaker").delete_model(ModelName=item.name)
    elif item.kind == "pipeline":
        client("codepipeline").delete_pipeline(name=item.name)
    elif item.kind == "stack":
        delete_stack(item.name)
    elif item.kind == "role":
        _delete_role(client("iam"), item.name)
    elif item.kind == "bucket":
        empty_bucket(client("s3"), item.name)
        client("s3").delete_bucket(Bucket=item.name)
    elif item.kind == "alias":  # a key made outside any stack, known by its alias
        kms = client("kms")
        key_id = kms.describe_key(KeyId=item.name)["KeyMetadata"]["KeyId"]
        kms.delete_alias(AliasName=item.name)
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    elif item.kind == "key":
        key_id = item.name.rsplit("/", 1)[1]  # the id: moto's ScheduleKeyDeletion takes no ARN
        client("kms").schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    else:
        raise ValueError(f"no removal for {item}")


def sweep(client: ClientOf, run_id: str, delete_stack: Callable[[str], None]) -> list[str]:
    """Remove what the run left in the account: tagged buckets are emptied first (a stack
    cannot delete a bucket with objects). Returns the errors; never stops at the first.
    Emptying a bucket changes no tag, so the tagged resources are asked for once."""
    errors: list[str] = []
    arns = tagged_arns(client, run_id)
    for arn in arns:
        if arn.startswith("arn:aws:s3:::"):
            _attempt(
                errors,
                f"empty bucket {arn}",
                lambda arn=arn: empty_bucket(client("s3"), arn.split(":::", 1)[1]),
            )
    for item in discover(client, run_id, arns):
        _attempt(errors, f"remove {item}", lambda item=item: remove(client, item, delete_stack))
    return errors


def _attempt(errors: list[str], what: str, step: Callable[[], None]) -> None:
    try:
        step()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in GONE:
            errors.append(f"{what}: {error}")
    except StackFailed as error:
        errors.append(f"{what}: {error}")
