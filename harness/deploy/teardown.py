"""Remove everything a run created, in reverse order, whatever state the run left.

Each step tolerates what is already gone, so teardown can be repeated (after a crash, or by
``harness destroy`` in another process). It then looks for anything left and returns it, so a
run that leaks a resource says which.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import boto3
from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from harness.deploy.deploy import Progress
from harness.deploy.pipeline import stop_executions
from harness.deploy.settings import Settings
from harness.targets import ACCOUNT_ROLES, StackFailed, Target

# Error codes that mean "already gone" for the calls teardown makes.
GONE = {
    "NoSuchEntity",
    "NoSuchBucket",
    "NotFoundException",
    "PipelineNotFoundException",
    "ValidationException",  # SageMaker: "Could not find endpoint/model ..."
    "ValidationError",  # CloudFormation: "Stack ... does not exist"
    "ResourceNotFoundException",
    "KMSInvalidStateException",  # key already pending deletion
}


@dataclass
class TeardownReport:
    """What could not be removed (with why) and what is still there afterwards."""

    errors: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.errors and not self.left


def _gone(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in GONE


class _Steps:
    """Runs teardown steps, recording failures instead of stopping at the first."""

    def __init__(self, report: TeardownReport, progress: Progress) -> None:
        self.report = report
        self.progress = progress

    def run(self, what: str, step: Callable[[], None]) -> None:
        self.progress(f"removing {what}")
        try:
            step()
        except ClientError as error:
            if not _gone(error):
                self.report.errors.append(f"{what}: {error}")
        except (StackFailed, BotoCoreError) as error:
            self.report.errors.append(f"{what}: {error}")

    def run_together(self, steps: list[tuple[str, Callable[[], None]]]) -> None:
        """Steps that depend on nothing of each other, side by side; all finish first."""
        with ThreadPoolExecutor(max_workers=len(steps)) as pool:
            futures = [pool.submit(self.run, what, step) for what, step in steps]
        for future in futures:
            future.result()  # an unexpected error surfaces here, not lost in the pool


def _stack_outputs(target: Target, session: boto3.Session, name: str) -> dict[str, str]:
    cloudformation = target.client("cloudformation", session)
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError:
        return {}
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _delete_pipeline(codepipeline: BaseClient, name: str) -> None:
    stop_executions(codepipeline, name, "harness teardown")
    codepipeline.delete_pipeline(name=name)


def _delete_endpoint(sagemaker: BaseClient, name: str) -> None:
    """The endpoint, then every config and model it was built from."""
    try:
        config = sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"]
    except ClientError as error:
        if not _gone(error):
            raise
        return
    variants = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    sagemaker.delete_endpoint(EndpointName=name)
    sagemaker.delete_endpoint_config(EndpointConfigName=config)
    for variant in variants:
        sagemaker.delete_model(ModelName=variant["ModelName"])


def _delete_role(iam: BaseClient, name: str) -> None:
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def _delete_other_key(kms: BaseClient, alias: str) -> None:
    key_id = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
    kms.delete_alias(AliasName=alias)
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)


def empty_bucket(s3: BaseClient, bucket: str) -> None:
    """Delete every object version and delete marker of a versioned bucket."""
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        objects = [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries]
        if objects:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})


def teardown(
    target: Target, settings: Settings, progress: Progress = lambda _message: None
) -> TeardownReport:
    """Delete the run's resources (pipeline, endpoint, training stack, canaries, second key,
    C, B, the bucket's contents, A) and report anything left."""
    report = TeardownReport()
    steps = _Steps(report, progress)
    sessions = _deployer_sessions(target, settings)
    shared = _stack_outputs(
        target, sessions["shared-services"], settings.stack_name("shared-services")
    )
    training = _stack_outputs(target, sessions["training"], settings.stack_name("training"))
    a_session = sessions["shared-services"]
    steps.run(
        f"pipeline {settings.pipeline_name}",
        lambda: _delete_pipeline(target.client("codepipeline", a_session), settings.pipeline_name),
    )
    steps.run(
        f"endpoint {settings.endpoint_name} in production",
        lambda: _delete_endpoint(
            target.client("sagemaker", sessions["production"]), settings.endpoint_name
        ),
    )
    independent: list[tuple[str, Callable[[], None]]] = [
        (
            f"stack {settings.training_stack_name} in training",
            lambda: target.destroy_stack(
                "training", settings.training_stack_name, training.get("CloudFormationRoleArn")
            ),
        ),
        (
            f"second key {settings.other_key_alias}",
            lambda: _delete_other_key(target.client("kms", a_session), settings.other_key_alias),
        ),
    ]
    for account, session in sessions.items():
        iam = target.client("iam", session)
        independent.append(
            (
                f"canary role {settings.canary_role_name} in {account}",
                lambda iam=iam: _delete_role(iam, settings.canary_role_name),
            )
        )
    steps.run_together(independent)
    steps.run_together(
        [
            (
                f"stack {settings.stack_name(account)} in {account}",
                lambda account=account: target.destroy_stack(account, settings.stack_name(account)),
            )
            for account in ("production", "training")
        ]
    )
    if "ArtifactBucketName" in shared:
        bucket = shared["ArtifactBucketName"]
        steps.run(
            f"every object version in bucket {bucket}",
            lambda: empty_bucket(target.client("s3", a_session), bucket),
        )
    name = settings.stack_name("shared-services")
    steps.run(
        f"stack {name} in shared-services", lambda: target.destroy_stack("shared-services", name)
    )
    report.left = leftovers(target, settings, shared.get("ArtifactBucketName"))
    return report


def _deployer_sessions(target: Target, settings: Settings) -> dict[str, boto3.Session]:
    """One deployer session per account for all of teardown's calls (a session costs as
    much as a few calls to make)."""
    return {account: target.session(account) for account in settings.accounts}


def leftovers(target: Target, settings: Settings, bucket: str | None) -> list[str]:
    """Every resource of the run that still exists, by kind and name; each is looked up at
    the same time as the others (clients are made first: making one is not thread-safe)."""
    sessions = _deployer_sessions(target, settings)

    def client(account: str, service: str) -> BaseClient:
        return target.client(service, sessions[account])

    probes: list[tuple[str, Callable[[], object]]] = [
        (
            f"pipeline {settings.pipeline_name}",
            functools.partial(
                client("shared-services", "codepipeline").get_pipeline, name=settings.pipeline_name
            ),
        ),
        (
            f"endpoint {settings.endpoint_name}",
            functools.partial(
                client("production", "sagemaker").describe_endpoint,
                EndpointName=settings.endpoint_name,
            ),
        ),
        (
            f"alias {settings.other_key_alias}",
            functools.partial(
                client("shared-services", "kms").describe_key, KeyId=settings.other_key_alias
            ),
        ),
    ]
    for account in settings.accounts:
        probes.append(
            (
                f"role {settings.canary_role_name} in {account}",
                functools.partial(
                    client(account, "iam").get_role, RoleName=settings.canary_role_name
                ),
            )
        )
    stacks = [(a, settings.stack_name(a)) for a in ACCOUNT_ROLES]
    stacks.append(("training", settings.training_stack_name))
    for account, name in stacks:
        probes.append(
            (
                f"stack {name} in {account}",
                functools.partial(_live_stack, client(account, "cloudformation"), name),
            )
        )
    if bucket:
        probes.append(
            (
                f"bucket {bucket}",
                functools.partial(client("shared-services", "s3").head_bucket, Bucket=bucket),
            )
        )
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        found = list(pool.map(lambda probe: _still_there(*probe), probes))
    return [what for what in found if what is not None]


def _still_there(what: str, probe: Callable[[], object]) -> str | None:
    """``what`` if ``probe`` finds it (with why, if it cannot tell), else None."""
    try:
        probe()
    except ClientError as error:
        if _gone(error) or error.response["Error"]["Code"] in {"404", "NoSuchBucket"}:
            return None
        return f"{what} (cannot tell: {error})"
    return what


def _live_stack(cloudformation: BaseClient, name: str) -> None:
    """Raises a "gone" error unless the stack exists and is not deleted."""
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    if stack["StackStatus"] == "DELETE_COMPLETE":
        raise ClientError({"Error": {"Code": "ValidationError", "Message": "deleted"}}, "x")
