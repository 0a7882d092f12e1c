"""The one interface every target implements (local now; localstack and aws later).

Checks are written once against :class:`Target` and boto3. A target declares what it can
really test (:class:`Capability`); a check needing a capability the target lacks is skipped
with the capability's description as the reason, never passed.
"""

from __future__ import annotations

import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Mapping
from enum import Enum
from types import TracebackType
from typing import Any, Self

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.deadlines import DeadlineExceeded, Wakes, bound, poll

ACCOUNT_ROLES = ("shared-services", "training", "production")
"""The three accounts of the pipeline, by the part each plays (DESIGN.md section 1)."""
OUTSIDER = "outsider"
"""An optional fourth account that belongs to nobody in the design: its canary stands for every
other account of the world, so "any other account is refused" is probed, not assumed."""
_CLIENT_CREATION = threading.Lock()
_CLIENTS: weakref.WeakKeyDictionary[boto3.Session, dict[tuple[Any, ...], BaseClient]] = (
    weakref.WeakKeyDictionary()
)
"""The clients ``Target.client`` made, by session, then service and settings; they go with
their session."""


class Capability(Enum):
    """Something a target really does; the value is the human description used in skips."""

    ENFORCES_BUCKET_POLICY = "enforces S3 bucket policies"
    ENFORCES_KEY_POLICY = "enforces KMS key policies"
    ENFORCES_TRUST_POLICY = "enforces role trust policies on sts:AssumeRole"
    ENFORCES_IDENTITY_POLICY = "enforces IAM identity policies"
    ENFORCES_TLS_CONDITION = "serves plain HTTP and HTTPS, so aws:SecureTransport is real"
    APPLIES_TEMPLATE_SETTINGS = (
        "applies a template's bucket encryption, public access block, versioning, bucket and key"
        " policies and key rotation as written"
    )
    RUNS_TRAINING = "runs SageMaker training jobs"
    HOSTS_ENDPOINTS = "hosts SageMaker endpoints"
    RUNS_LAMBDA = "runs Lambda functions"
    RUNS_PIPELINE = "runs CodePipeline pipelines"
    SIMULATES_POLICIES = (
        "answers iam:SimulatePrincipalPolicy (evidence for roles only a service may assume)"
    )

    @property
    def description(self) -> str:
        return self.value


class StackFailed(RuntimeError):
    """A stack did not reach its wanted status; the message carries the failed events."""


class Target(ABC):
    """Accounts, sessions, clients and stacks on one kind of AWS.

    Use as a context manager: ``with LocalTarget() as target: ...``.
    """

    name: str
    region: str
    accounts: Mapping[str, str]  # account role ("shared-services", ...) -> 12-digit id
    capabilities: frozenset[Capability]
    measured_capabilities: frozenset[Capability] = frozenset()
    """Capabilities this kind of target may earn at start from probes (then in
    ``capabilities``), never claimed beforehand."""
    stack_tags: Mapping[str, str] = {}
    """Tags given to every stack (and so, by CloudFormation, to its taggable resources)."""
    stack_poll_seconds: float = 5.0
    stack_timeout_seconds: float = 3600.0
    policy_propagation_seconds: float = 0.0
    """How long a changed IAM policy takes to apply (IAM is eventually consistent on AWS)."""

    @abstractmethod
    def start(self) -> None:
        """Make the target ready to serve requests (idempotent)."""

    @abstractmethod
    def stop(self) -> None:
        """Release what ``start`` acquired."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def account_id(self, account: str) -> str:
        """The 12-digit id of an account given by role name or already by id."""
        if account in self.accounts:
            return self.accounts[account]
        if account in self.accounts.values():
            return account
        raise KeyError(f"unknown account {account!r}; known: {dict(self.accounts)}")

    @property
    def account_roles(self) -> tuple[str, ...]:
        """The pipeline's three accounts, then the outsider when the target has one."""
        return ACCOUNT_ROLES + ((OUTSIDER,) if OUTSIDER in self.accounts else ())

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def check_stack(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        """Refuse a stack this target must not run, raising with the reason (the ``aws``
        target's cost guard, which its ``deploy_stack`` also applies). The deploy layer asks
        it about the stack the pipeline deploys itself. Nothing is refused by default."""
        return

    def unsupported_resource_types(self, template: Mapping[str, Any]) -> list[str]:
        """Resource types of ``template`` this target cannot deploy; a check deploying it is
        skipped naming them. Empty: the target tries them all."""
        return []

    @abstractmethod
    def session(
        self, account: str, role_arn: str | None = None, session_name: str = "harness"
    ) -> boto3.Session:
        """A session as the account's bootstrap deployer, or as ``role_arn`` assumed by it
        through a real ``sts:AssumeRole`` (so the role's trust policy is honoured)."""

    @abstractmethod
    def client_settings(self, service: str) -> dict[str, Any]:
        """Keyword arguments a boto3 client of ``service`` needs on this target (endpoint,
        CA, config)."""

    def client(self, service: str, session: boto3.Session, *, shared: bool = True) -> BaseClient:
        """A client of ``service`` for ``session`` with the target's endpoint and CA settings.

        Made once for each session, service and settings, then shared (botocore clients are
        thread-safe): a client costs ~10 ms of CPU and a TLS handshake on its first call, and
        a target's deployer session is asked for the same few hundreds of times. A caller that
        changes a client's event handlers asks for its own (``shared=False``).

        One at a time: a session is shared by threads (a target's deployer session is made
        once), and botocore does not promise that creating clients of one session concurrently
        is safe; creation holds the GIL throughout, so nothing is lost by the lock."""
        settings = self.client_settings(service)
        with _CLIENT_CREATION:
            if not shared:
                return self._new_client(service, session, settings)
            made = _CLIENTS.setdefault(session, {})
            key = (service, self.region, *sorted(settings.items()))
            if key not in made:
                made[key] = self._new_client(service, session, settings)
            return made[key]

    def _new_client(
        self, service: str, session: boto3.Session, settings: Mapping[str, Any]
    ) -> BaseClient:
        return session.client(service, region_name=self.region, **settings)

    def subprocess_env(self, credentials: Mapping[str, str]) -> dict[str, str]:
        """Environment for a runtime process (training job, Lambda) acting with
        ``credentials`` (``AccessKeyId``, ``SecretAccessKey``, ``SessionToken`` as STS
        returns them): the target's endpoint and CA bundle (from ``client_settings``), the
        region, and the credentials themselves, never the host's instance metadata."""
        settings = self.client_settings("sts")
        env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if settings.get("endpoint_url"):
            env["AWS_ENDPOINT_URL"] = settings["endpoint_url"]
        if isinstance(settings.get("verify"), str):
            env["AWS_CA_BUNDLE"] = settings["verify"]
        if credentials.get("SessionToken"):
            env["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
        return env

    def deploy_stack(
        self,
        account: str,
        name: str,
        template_body: str,
        parameters: Mapping[str, str],
        role_arn: str | None = None,
    ) -> dict[str, str]:
        """Create ``name`` in ``account`` as the deployer (with ``role_arn`` as the stack's
        service role if given), or update it if it exists, so deploying again converges; wait
        for it and return its outputs.

        Raises :class:`StackFailed` with the failed resources' reasons; a failed update has
        rolled back to the stack as it was.
        """
        cloudformation = self.client("cloudformation", self.session(account))
        request: dict[str, Any] = {
            "StackName": name,
            "TemplateBody": template_body,
            "Parameters": [
                {"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()
            ],
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
        }
        if role_arn is not None:
            request["RoleARN"] = role_arn
        if self.stack_tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in self.stack_tags.items()]
        wanted = create_or_update_stack(cloudformation, request)
        if wanted is None:  # there already, as asked
            stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        else:
            stack = self._wait(cloudformation, name, wanted)
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def destroy_stack(self, account: str, name: str, role_arn: str | None = None) -> None:
        """Delete ``name`` in ``account`` and wait until it is gone."""
        cloudformation = self.client("cloudformation", self.session(account))
        request = {"StackName": name} | ({"RoleARN": role_arn} if role_arn else {})
        existing = describe_stack(cloudformation, name)
        if existing is None:
            return
        cloudformation.delete_stack(**request)
        self._wait(cloudformation, existing["StackId"], "DELETE_COMPLETE")

    def stack_changes(self) -> Wakes | None:
        """What tells a stack's waiter that an operation may have ended, so it looks again
        before ``stack_poll_seconds`` are up; None (real and LocalStack's CloudFormation
        tell nobody): it looks every ``stack_poll_seconds``."""
        return None

    def _wait(self, cloudformation: BaseClient, name: str, wanted: str) -> dict[str, Any]:
        bound_s = bound("stack_operation", self.stack_timeout_seconds)
        status = "unknown"
        what = f"stack {name} to reach {wanted}"
        try:
            for _ in poll(what, bound_s, self.stack_poll_seconds, self.stack_changes()):
                stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
                status = stack["StackStatus"]
                if status == wanted:
                    return stack
                if not status.endswith("_IN_PROGRESS"):
                    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
                    failed = [
                        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
                        for e in events
                        if e["ResourceStatus"].endswith("FAILED")
                    ]
                    raise StackFailed(
                        f"stack {stack['StackName']} is {status}, wanted {wanted}: "
                        + ("; ".join(failed) or stack.get("StackStatusReason", ""))
                    )
        except DeadlineExceeded as exceeded:
            events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
            raise StackFailed(f"{exceeded}; still {status}, {_in_progress(events)}") from exceeded
        raise AssertionError("poll ends by raising DeadlineExceeded")


def describe_stack(cloudformation: BaseClient, name: str) -> dict[str, Any] | None:
    """The stack called ``name``, or None when there is none."""
    try:
        stack: dict[str, Any] = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return stack


def create_or_update_stack(cloudformation: BaseClient, request: Mapping[str, Any]) -> str | None:
    """Create the stack ``request`` names, or update it when it exists (CloudFormation's
    create-or-update, so deploying again converges); the status to wait for, or None when
    the stack is there and the request changes nothing."""
    if describe_stack(cloudformation, request["StackName"]) is None:
        cloudformation.create_stack(**request)
        return "CREATE_COMPLETE"
    try:
        cloudformation.update_stack(**request)
    except ClientError as error:
        if "No updates are to be performed" not in str(error):
            raise
        return None
    return "UPDATE_COMPLETE"


def _in_progress(events: list[dict[str, Any]]) -> str:
    """The resources whose latest event (events come newest first) is still in progress."""
    latest: dict[str, str] = {}
    for event in events:
        latest.setdefault(event["LogicalResourceId"], event["ResourceStatus"])
    stuck = [f"{r} {s}" for r, s in latest.items() if s.endswith("_IN_PROGRESS")]
    return "waiting on " + ", ".join(stuck) if stuck else "no resource in progress"
