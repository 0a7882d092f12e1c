"""Deploy A, then B and C with A's outputs, the harness's own principals, data and pipeline.

Order (infra/README.md): A's stack (its policies name B's and C's roles by ARN conditions, so
it deploys first); B and C with A's bucket and key; training data published by A's data
publisher role under the key; the pipeline rendered from the three stacks' outputs; the source
bundle pushed to ``main``, which starts the pipeline; then, while it runs, the canary
principals and a second key that the checks need. Every failure names the stack, resource,
principal or parameter.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from harness.deploy.settings import Settings
from harness.render import (
    PIPELINE_DIR,
    TRAINING_CONFIG,
    TRAINING_TEMPLATE,
    RenderError,
    Wiring,
    render_pipeline,
    render_source_bundle,
)
from harness.targets import ACCOUNT_ROLES, Capability, StackFailed, Target
from harness.templates import ACCOUNT_TEMPLATES, TemplateError, load_template, package

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "infra" / "data"
# Channel -> the file published under data/<channel>/ (the state machine reads those prefixes).
DATA_CHANNELS = ("train", "validation")
SOURCE_BRANCH = "main"
DOWNSTREAM = ("training", "production")  # need only A's outputs, so deploy side by side
CANARY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AdminLike",
            "Effect": "Allow",
            "Action": ["kms:*", "s3:*", "sts:AssumeRole"],
            "Resource": "*",
        }
    ],
}
CANARY_POLICY_NAME = "admin-like"

Progress = Callable[[str], None]


class DeployError(RuntimeError):
    """A deployment step failed; the message names what failed and where."""


@dataclass
class Deployment:
    """What a deployment created, for checks and teardown."""

    settings: Settings
    outputs: dict[str, dict[str, str]]  # account role -> stack outputs
    wiring: Wiring
    deployer_arns: dict[str, str]  # account role -> role ARN of the target's deployer
    canary_arns: dict[str, str] = field(default_factory=dict)  # account role -> canary role
    other_key_arn: str = ""
    data_keys: dict[str, str] = field(default_factory=dict)  # channel -> object key
    commit_id: str | None = None  # None: the target runs no pipeline, nothing was pushed

    @property
    def bucket(self) -> str:
        return self.wiring.ArtifactBucketName

    @property
    def key_arn(self) -> str:
        return self.wiring.ArtifactKeyArn


def _fail(what: str, error: Exception) -> DeployError:
    return DeployError(f"{what}: {error}")


def deployer_role_arn(target: Target, account: str) -> str:
    """The role ARN behind the target's deployer session in ``account`` (from STS)."""
    sts = target.client("sts", target.session(account))
    arn = sts.get_caller_identity()["Arn"]
    # arn:aws:sts::<id>:assumed-role/<name>/<session> -> arn:aws:iam::<id>:role/<name>
    if ":assumed-role/" not in arn:
        raise DeployError(f"the deployer of {account} is {arn}, not an assumed role")
    head, rest = arn.split(":assumed-role/", 1)
    return head.replace(":sts:", ":iam:") + ":role/" + rest.split("/", 1)[0]


def template_path(account: str, templates: Path | None = None) -> Path:
    """The template of ``account``'s stack: ``<account>.yaml`` (or ``.yml``, ``.json``) in
    ``templates`` if there is one there, else the project's own from ``infra/templates``."""
    if templates is not None:
        for suffix in (".yaml", ".yml", ".json"):
            candidate = templates / f"{account}{suffix}"
            if candidate.is_file():
                return candidate
    return ACCOUNT_TEMPLATES[account]


def _template_body(account: str, templates: Path | None) -> str:
    path = template_path(account, templates)
    try:
        return json.dumps(package(load_template(path), path))
    except TemplateError as error:
        raise DeployError(str(error)) from error


def _deploy_stack(
    target: Target,
    settings: Settings,
    account: str,
    parameters: Mapping[str, str],
    progress: Progress,
    templates: Path | None,
) -> dict[str, str]:
    name = settings.stack_name(account)
    where = f"stack {name} in {account} ({settings.accounts[account]})"
    progress(f"deploying {where}")
    try:
        return target.deploy_stack(account, name, _template_body(account, templates), parameters)
    except (StackFailed, ClientError) as error:
        raise _fail(where, error) from error


def deploy_stacks(
    target: Target,
    settings: Settings,
    deployers: Mapping[str, str],
    progress: Progress,
    templates: Path | None = None,
) -> dict[str, dict[str, str]]:
    """A with B's and C's ids, then B and C (side by side) with A's outputs; the outputs by
    account role."""
    accounts = settings.accounts
    shared_parameters = {
        "Prefix": settings.prefix,
        "TrainingAccountId": accounts["training"],
        "ProductionAccountId": accounts["production"],
        "DataPublisherPrincipalArn": deployers["shared-services"],
    }
    shared = _deploy_stack(
        target, settings, "shared-services", shared_parameters, progress, templates
    )
    downstream = {
        "Prefix": settings.prefix,
        "SharedServicesAccountId": accounts["shared-services"],
        "ArtifactBucketName": shared["ArtifactBucketName"],
        "ArtifactKeyArn": shared["ArtifactKeyArn"],
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            account: pool.submit(
                _deploy_stack, target, settings, account, downstream, progress, templates
            )
            for account in DOWNSTREAM
        }
        # Wait for both before raising, so a failure never leaves a stack half-made unseen.
        wait(futures.values())
        outputs = {"shared-services": shared}
        for account, future in futures.items():
            outputs[account] = future.result()
    return outputs


def publish_data(
    target: Target, deployment: Deployment, data_dir: Path, progress: Progress
) -> dict[str, str]:
    """Upload the training channels as the data publisher role, SSE-KMS under the key."""
    publisher = deployment.outputs["shared-services"]["DataPublisherRoleArn"]
    progress(f"publishing training data as {publisher}")
    try:
        s3 = target.client("s3", target.session("shared-services", publisher, "data-publisher"))
        keys = {}
        for channel in DATA_CHANNELS:
            key = f"data/{channel}/{channel}.csv"
            s3.put_object(
                Bucket=deployment.bucket,
                Key=key,
                Body=(data_dir / f"{channel}.csv").read_bytes(),
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=deployment.key_arn,
            )
            keys[channel] = key
    except (ClientError, OSError) as error:
        raise _fail(f"publishing training data as {publisher}", error) from error
    return keys


def create_canary(target: Target, settings: Settings, account: str, deployer: str) -> str:
    """An admin-like role (``kms:*``, ``s3:*``, ``sts:AssumeRole``) in ``account``, trusted by
    its deployer: the key and bucket policies must refuse it all the same."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": deployer}, "Action": "sts:AssumeRole"}
        ],
    }
    name = settings.canary_role_name
    iam = target.client("iam", target.session(account))
    try:
        try:
            arn = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description="Harness canary: admin-like, must be refused by the key policy",
            )["Role"]["Arn"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "EntityAlreadyExists":
                raise
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        iam.put_role_policy(
            RoleName=name, PolicyName=CANARY_POLICY_NAME, PolicyDocument=json.dumps(CANARY_POLICY)
        )
    except ClientError as error:
        raise _fail(f"canary role {name} in {account}", error) from error
    return str(arn)


def create_canaries(
    target: Target, settings: Settings, deployers: Mapping[str, str], progress: Progress
) -> dict[str, str]:
    """One canary per account of the target (the outsider's too), side by side."""
    progress(f"creating canary role {settings.canary_role_name} in every account")
    with ThreadPoolExecutor(max_workers=len(settings.accounts)) as pool:
        futures = {
            account: pool.submit(create_canary, target, settings, account, deployers[account])
            for account in settings.accounts
        }
        wait(futures.values())
    return {account: future.result() for account, future in futures.items()}


def other_key_policy(account_id: str, users: list[str]) -> dict[str, Any]:
    """The second key's policy: its account administers it (as a new key's default policy
    does), and every role of the deployment may use it, so that a put naming it can be refused
    by the bucket policy only, never by the key."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AdministrationByTheAccount",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "UseByEveryRoleOfTheDeployment",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(users)},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            },
        ],
    }


def deployment_roles(outputs: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Every role ARN the account stacks output."""
    return [
        value
        for stack in outputs.values()
        for name, value in stack.items()
        if name.endswith("RoleArn") and ":role/" in value
    ]


def create_other_key(target: Target, deployment: Deployment, progress: Progress) -> str:
    """A second key in A (found again by its alias), usable by every role of the deployment,
    for the "another key" put case."""
    settings = deployment.settings
    kms = target.client("kms", target.session("shared-services"))
    policy = json.dumps(
        other_key_policy(settings.accounts["shared-services"], deployment_roles(deployment.outputs))
    )
    try:
        try:
            arn = kms.describe_key(KeyId=settings.other_key_alias)["KeyMetadata"]["Arn"]
        except ClientError as error:
            if error.response["Error"]["Code"] != "NotFoundException":
                raise
            progress(f"creating a second KMS key {settings.other_key_alias} in shared-services")
            arn = kms.create_key(
                Description="Harness: a key that is not the artifact key", Policy=policy
            )["KeyMetadata"]["Arn"]
            kms.create_alias(AliasName=settings.other_key_alias, TargetKeyId=arn)
            return str(arn)
        kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=policy)
    except ClientError as error:
        raise _fail(f"second KMS key {settings.other_key_alias}", error) from error
    return str(arn)


def create_pipeline(target: Target, deployment: Deployment, progress: Progress) -> None:
    """CreatePipeline in A from ``infra/pipeline/pipeline.json``, wired with the outputs."""
    request = render_pipeline(deployment.wiring)
    name = request["pipeline"]["name"]
    progress(f"creating pipeline {name} in shared-services")
    codepipeline = target.client("codepipeline", target.session("shared-services"))
    try:
        codepipeline.create_pipeline(**request)
    except ClientError as error:
        raise _fail(f"pipeline {name} (role {request['pipeline']['roleArn']})", error) from error


FIRST_RUN_BOUND_S = 60.0


def await_first_run(
    codepipeline: BaseClient, name: str, bound_s: float = FIRST_RUN_BOUND_S
) -> None:
    """Wait until the run CreatePipeline starts by itself has ended (its Source fails: the
    branch does not exist yet). A push during that run would give the same commit two queued
    executions, and the one nobody follows would hold the approval stage."""
    deadline = time.monotonic() + bound_s
    while True:
        executions = codepipeline.list_pipeline_executions(pipelineName=name)[
            "pipelineExecutionSummaries"
        ]
        running = [e for e in executions if e["status"] in {"InProgress", "Stopping"}]
        if executions and not running:
            return
        if time.monotonic() > deadline:
            raise DeployError(
                f"pipeline {name}: the run CreatePipeline started has not ended after "
                f"{bound_s:.0f} s ({[e['status'] for e in executions]})"
            )
        time.sleep(0.1)


def push_source(
    target: Target, deployment: Deployment, progress: Progress, directory: Path = PIPELINE_DIR
) -> str:
    """Commit the source bundle rendered from ``directory`` to the repository's main branch;
    the commit id."""
    repository = deployment.wiring.RepositoryName
    codecommit = target.client("codecommit", target.session("shared-services"))
    with tempfile.TemporaryDirectory(prefix="source-bundle-") as folder:
        files = render_source_bundle(deployment.wiring, Path(folder), directory)
        # The pipeline deploys this stack itself: the target's guards see it before the push.
        config = json.loads((Path(folder) / TRAINING_CONFIG).read_text())
        target.check_stack(load_template(Path(folder) / TRAINING_TEMPLATE), config["Parameters"])
        puts = [{"filePath": path.name, "fileContent": path.read_bytes()} for path in files]
    progress(f"pushing {len(puts)} files to {repository}:{SOURCE_BRANCH}")
    request: dict[str, Any] = {
        "repositoryName": repository,
        "branchName": SOURCE_BRANCH,
        "putFiles": puts,
        "commitMessage": "harness: rendered source bundle",
        "authorName": "harness",
    }
    try:
        branch = codecommit.get_branch(repositoryName=repository, branchName=SOURCE_BRANCH)
        request["parentCommitId"] = branch["branch"]["commitId"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "BranchDoesNotExistException":
            raise _fail(f"repository {repository}", error) from error
    try:
        return codecommit.create_commit(**request)["commitId"]
    except ClientError as error:
        raise _fail(f"push to {repository}:{SOURCE_BRANCH}", error) from error


def deploy(
    target: Target,
    settings: Settings,
    progress: Progress = lambda _message: None,
    data_dir: Path = DATA_DIR,
    templates: Path | None = None,
) -> Deployment:
    """Deploy everything a run needs onto a started target (see the module docstring).

    ``templates`` may hold replacements for the account templates (see :func:`template_path`),
    to prove the checks catch a faulty variant.

    Without :attr:`Capability.RUNS_PIPELINE` the pipeline is created but no source is pushed:
    a push would start nothing, and the checks that need an execution skip with that reason.
    """
    try:
        deployers = {account: deployer_role_arn(target, account) for account in settings.accounts}
    except (ClientError, BotoCoreError) as error:
        raise _fail("reading the deployer identities", error) from error
    outputs = deploy_stacks(target, settings, deployers, progress, templates)
    try:
        wiring = Wiring.from_outputs(settings.wiring_settings, outputs)
    except RenderError as error:
        raise DeployError(f"wiring the pipeline: {error}") from error
    deployment = Deployment(settings, outputs, wiring, deployers)
    deployment.data_keys = publish_data(target, deployment, data_dir, progress)
    try:
        create_pipeline(target, deployment, progress)
    except RenderError as error:
        raise DeployError(f"rendering the pipeline: {error}") from error
    if target.has(Capability.RUNS_PIPELINE):
        # Pushed as soon as the pipeline can run; the checks' own principals come meanwhile.
        await_first_run(
            target.client("codepipeline", target.session("shared-services")),
            deployment.settings.pipeline_name,
        )
        deployment.commit_id = push_source(target, deployment, progress)
    deployment.canary_arns = create_canaries(target, settings, deployers, progress)
    deployment.other_key_arn = create_other_key(target, deployment, progress)
    return deployment


def adopt(target: Target, settings: Settings) -> Deployment:
    """The deployment already on ``target`` under ``settings.prefix`` (made by an earlier
    ``harness deploy``), read back from its stacks; nothing is created."""
    outputs = {}
    for account in ACCOUNT_ROLES:
        name = settings.stack_name(account)
        cloudformation = target.client("cloudformation", target.session(account))
        try:
            stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        except ClientError as error:
            raise DeployError(
                f"stack {name} in {account}: {error}; deploy first (harness deploy)"
            ) from error
        outputs[account] = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    try:
        wiring = Wiring.from_outputs(settings.wiring_settings, outputs)
    except RenderError as error:
        raise DeployError(f"wiring the pipeline: {error}") from error
    deployers = {account: deployer_role_arn(target, account) for account in settings.accounts}
    deployment = Deployment(settings, outputs, wiring, deployers)
    deployment.canary_arns = {a: settings.canary_role_arn(a) for a in settings.accounts}
    deployment.data_keys = {channel: f"data/{channel}/{channel}.csv" for channel in DATA_CHANNELS}
    kms = target.client("kms", target.session("shared-services"))
    codecommit = target.client("codecommit", target.session("shared-services"))
    try:
        deployment.other_key_arn = kms.describe_key(KeyId=settings.other_key_alias)["KeyMetadata"][
            "Arn"
        ]
        if target.has(Capability.RUNS_PIPELINE):
            deployment.commit_id = codecommit.get_branch(
                repositoryName=wiring.RepositoryName, branchName=SOURCE_BRANCH
            )["branch"]["commitId"]
    except ClientError as error:
        raise DeployError(f"reading the deployment of {settings.prefix}: {error}") from error
    return deployment
