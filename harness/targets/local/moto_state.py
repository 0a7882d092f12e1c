"""Read the policies a decision needs from moto's in-process state, and bootstrap accounts.

moto keeps every account's resources in module-level backends; the gateway runs in the same
process, so it reads bucket policies, key policies, trust policies and role policies there
instead of calling moto's API (which would itself need authorizing). This is the only module
of the local target that knows moto's internal model.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import lambda_backends
from moto.codecommit.models import codecommit_backends
from moto.core import responses as moto_responses
from moto.core.base_backend import BackendDict, backend_lock
from moto.events.models import events_backends
from moto.iam.access_control import PermissionResult
from moto.iam.models import iam_backends
from moto.kms import models as moto_kms_models
from moto.kms.models import kms_backends
from moto.s3.models import FakeBucket, s3_backends
from moto.s3control.models import s3control_backends
from moto.sagemaker.models import sagemaker_backends
from moto.stepfunctions.models import stepfunctions_backends

from harness.policy.arns import iam_entity
from harness.policy.grants import Grant
from harness.targets.local.moto_kms import MOTO_GENERATE, PrivateKeyOnFirstUse

PARTITION = "aws"
AWS_MANAGED_S3_KEY = "alias/aws/s3"
_decided = threading.local()


@dataclass(frozen=True)
class KeyInfo:
    """A KMS key resolved from any of its names (id, ARN, alias, alias ARN)."""

    arn: str
    account_id: str
    policy: str
    state: str  # Enabled, Disabled, PendingDeletion, ...
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class RolePolicies:
    """Everything IAM holds that decides what a role's sessions may do, and who may assume it."""

    identity: tuple[tuple[str, str], ...]  # (name or ARN, document): inline, then managed
    boundary: str | None
    trust: str
    role_id: str  # the unique id (AROA...) STS shows in AssumedRoleId
    tags: tuple[tuple[str, str], ...] = ()
    max_session_seconds: int = 3600


def _iam(account_id: str):  # type: ignore[no-untyped-def]
    return iam_backends[account_id][PARTITION]


_found_roles: dict[tuple[str, str], Any] = {}


def _role(account_id: str, name: str) -> Any:
    """moto's role ``name`` of the account, or None. moto keeps roles by id, so a name is a
    scan of every role of the account, which the gateway made for each decision; the role
    found is remembered and taken again while moto still holds that very role under its id
    (a role deleted, or replaced by one of the same name, is scanned for anew). Its policies
    are read from moto on every request: only the lookup is remembered."""
    backend = _iam(account_id)
    known = _found_roles.get((account_id, name))
    if known is not None and backend.roles.get(known.id) is known and known.name == name:
        return known
    role = next((r for r in backend.get_roles() if r.name == name), None)
    if role is not None:
        _found_roles[account_id, name] = role
    return role


def _split_role_arn(role_arn: str) -> tuple[str, str]:
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("role/"):
        raise ValueError(f"not a role ARN: {role_arn!r}")
    return parts[4], parts[5].rsplit("/", 1)[1]


def role_policies(role_arn: str) -> RolePolicies | None:
    """The role's policies, or None when the role does not exist (any more)."""
    account_id, name = _split_role_arn(role_arn)
    backend = _iam(account_id)
    role = _role(account_id, name)
    if role is None:
        return None
    identity = tuple((held.arn or held.name, held.document) for held in _held(role, "role"))
    boundary = _boundary(backend, role)
    return RolePolicies(
        identity,
        boundary.document if boundary is not None else None,
        role.assume_role_policy_document,
        role.id,
        _tags(role.tags),
        int(role.max_session_duration or 3600),
    )


def _tags(held: Any) -> tuple[tuple[str, str], ...]:
    """moto keeps tags as a list or a dict of ``{"Key", "Value"}`` entries."""
    entries = held.values() if isinstance(held, dict) else held or ()
    return tuple((str(tag["Key"]), str(tag.get("Value", ""))) for tag in entries)


def managed_policy_document(arn: str, account_id: str) -> str | None:
    """The default version of a managed policy as ``account_id`` sees it, or None."""
    policy = _iam(account_id).managed_policies.get(arn)
    return _default_document(policy) if policy is not None else None


@dataclass(frozen=True)
class HeldPolicy:
    """One identity policy as IAM stores it: inline (``arn`` None) or managed."""

    holder: str  # the kind of entity it is attached to: "user", "group" or "role"
    name: str
    document: str
    arn: str | None = None


@dataclass(frozen=True)
class EntityPolicies:
    """The identity policies IAM applies to a user, group or role, and its boundary."""

    identity: tuple[HeldPolicy, ...]
    boundary: HeldPolicy | None


def entity_policies(arn: str) -> EntityPolicies | None:
    """For the user, group or role ``arn``: its inline and managed policies (a user's also
    through its groups) and its permissions boundary; None when no such entity exists."""
    entity_arn = iam_entity(arn)
    if entity_arn is None:
        return None
    account_id, kind, name = entity_arn
    backend = _iam(account_id)
    if kind == "role":
        entity = _role(account_id, name)
    else:
        entity = (backend.users if kind == "user" else backend.groups).get(name)
    if entity is None or entity.arn != arn:
        return None
    held = _held(entity, kind)
    if kind == "user":
        for group in backend.get_groups_for_user(name):
            held += _held(group, "group")
    boundary = _boundary(backend, entity) if kind == "role" else None  # moto: roles only
    return EntityPolicies(tuple(held), boundary)


def _held(entity, kind: str) -> list[HeldPolicy]:  # type: ignore[no-untyped-def]
    """An entity's inline policies, then its managed ones."""
    held = [HeldPolicy(kind, name, document) for name, document in entity.policies.items()]
    for arn, managed in list(entity.managed_policies.items()):
        held.append(HeldPolicy(kind, managed.name, _default_document(managed), arn))
    return held


def _boundary(backend, role) -> HeldPolicy | None:  # type: ignore[no-untyped-def]
    if not role.permissions_boundary_arn:
        return None
    policy = backend.managed_policies.get(role.permissions_boundary_arn)
    if policy is None:
        return None
    return HeldPolicy("role", policy.name, _default_document(policy), policy.arn)


def _default_document(policy) -> str:  # type: ignore[no-untyped-def]
    version = next(v for v in policy.versions if v.is_default)
    return version.document


def reset_accounts(account_ids: Iterable[str]) -> None:
    """Forget everything moto holds for these accounts, and only these: a new target starts
    empty even if an earlier one in this process used the same ids, while moto state of other
    accounts (other tests' servers) is left alone."""
    wanted = set(account_ids)
    with backend_lock:
        for backend in list(BackendDict._instances):
            for account_id in wanted.intersection(backend.keys()):
                backend[account_id].reset()


def ensure_role(account_id: str, name: str, trust: dict, inline: dict[str, dict]) -> str:
    """Create ``name`` in ``account_id`` with its inline policies unless it exists; its ARN.

    Used to bootstrap each account's deployer role, as an organisation's account-access
    role is created with the account, before any stack.
    """
    backend = _iam(account_id)
    role = _role(account_id, name)
    if role is None:
        role = backend.create_role(
            role_name=name,
            assume_role_policy_document=json.dumps(trust),
            path="/",
            permissions_boundary=None,
            description="Bootstrap deployer of the local target",
            tags=[],
            max_session_duration="3600",
        )
    for policy_name, document in inline.items():
        backend.put_role_policy(name, policy_name, json.dumps(document))
    return role.arn


def bucket_account(bucket: str) -> str | None:
    """The account that owns ``bucket``, or None if no account has it."""
    owner = s3_backends.bucket_accounts.get(bucket)
    return owner[1] if owner else None


def _bucket(bucket: str):  # type: ignore[no-untyped-def]
    account_id = bucket_account(bucket)
    if account_id is None:
        return None
    return s3_backends[account_id][PARTITION].buckets.get(bucket)


def bucket_policy(bucket: str) -> str | None:
    found = _bucket(bucket)
    if found is None or not found.policy:
        return None
    policy = found.policy
    return policy.decode() if isinstance(policy, bytes) else policy


def bucket_object_ownership(bucket: str) -> str | None:
    """The bucket's Object Ownership setting (``BucketOwnerEnforced``, ...), if it has one."""
    found = _bucket(bucket)
    return found.ownership_rule if found is not None else None


def bucket_public_access_block(bucket: str) -> dict[str, bool]:
    """The bucket's Block Public Access settings that are on, by API name."""
    found = _bucket(bucket)
    return _public_access_settings(found.public_access_block if found is not None else None)


def account_public_access_block(account_id: str) -> dict[str, bool]:
    """The account's Block Public Access settings (S3 Control) that are on, by API name."""
    return _public_access_settings(s3control_backends[account_id][PARTITION].public_access_block)


def _public_access_settings(block: Any) -> dict[str, bool]:
    if block is None:
        return {}
    settings = {
        "BlockPublicAcls": block.block_public_acls,
        "IgnorePublicAcls": block.ignore_public_acls,
        "BlockPublicPolicy": block.block_public_policy,
        "RestrictPublicBuckets": block.restrict_public_buckets,
    }
    return {name: True for name, on in settings.items() if on}


def bucket_default_kms_key(bucket: str) -> str | None:
    """The key of the bucket's default SSE-KMS encryption as configured (id, ARN or alias;
    ``alias/aws/s3`` when it names none); None without an SSE-KMS default."""
    found = _bucket(bucket)
    if found is None or not found.encryption:
        return None
    rules = found.encryption.get("Rule", [])
    for rule in rules if isinstance(rules, list) else [rules]:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse"):
            return default.get("KMSMasterKeyID") or AWS_MANAGED_S3_KEY
    return None


def _object(bucket: str, key: str, version_id: str | None) -> Any:
    """The object version ``version_id`` names, else the latest; None if there is none."""
    found = _bucket(bucket)
    if found is None:
        return None
    versions = found.keys.getlist(key, [])
    chosen = next((v for v in versions if version_id and v.version_id == version_id), None)
    return chosen or (versions[-1] if versions else None)


def object_kms_key(bucket: str, key: str, version_id: str | None = None) -> str | None:
    """The KMS key an existing object was encrypted under, or None (no object or no SSE-KMS)."""
    current = _object(bucket, key, version_id)
    if current is None or getattr(current, "encryption", None) != "aws:kms":
        return None
    return current.kms_key_id


def object_tags(bucket: str, key: str, version_id: str | None = None) -> dict[str, str] | None:
    """The tags of an existing object (version), or None when there is no such object."""
    current = _object(bucket, key, version_id)
    account_id = bucket_account(bucket)
    if current is None or account_id is None:
        return None
    tagger = s3_backends[account_id][PARTITION].tagger
    return dict(tagger.get_tag_dict_for_resource(current.arn))


def kms_key(reference: str, region: str, caller_account: str) -> KeyInfo | None:
    """Resolve a key id, key ARN, alias name or alias ARN to the key, or None if none exists.

    A bare id or alias names a key in the caller's account, as KMS reads it.
    """
    account_id, region_name, name = caller_account, region, reference
    if reference.startswith("arn:"):
        parts = reference.split(":", 5)
        if len(parts) < 6:  # no key has a malformed ARN
            return None
        region_name, account_id, name = parts[3], parts[4], parts[5]
    backend = kms_backends[account_id][region_name]
    if name.startswith("alias/"):
        key_id = backend.get_key_id_from_alias(name) if backend.alias_exists(name) else None
    else:
        key_id = name.removeprefix("key/")
    key = backend.keys.get(key_id) if key_id else None
    if key is None:
        return None
    return _key_info(key, account_id)


def _key_info(key: Any, account_id: str) -> KeyInfo:
    grants = tuple(Grant.from_api(key.arn, grant.to_json()) for grant in key.grants.values())
    return KeyInfo(key.arn, account_id, key.policy, key.key_state, grants)


def kms_grant_by_token(token: str) -> tuple[KeyInfo, Grant] | None:
    """The key and grant a grant token stands for (moto's tokens are unique across keys)."""
    for account_id, regions in list(kms_backends.items()):
        for backend in list(regions.values()):
            for key in list(backend.keys.values()):
                for grant in list(key.grants.values()):
                    if grant.token == token:
                        info = _key_info(key, account_id)
                        return info, Grant.from_api(key.arn, grant.to_json())
    return None


class MotoResourceState:
    """The gateway's ``ResourceState`` answered from moto's backends (see ``authz_map``)."""

    def kms_key_arn(self, key_ref: str, *, account_id: str, region: str) -> str | None:
        key = kms_key(key_ref, region, account_id)
        return key.arn if key is not None else None

    def bucket_default_kms_key(self, bucket: str) -> str | None:
        return bucket_default_kms_key(bucket)

    def object_kms_key(self, bucket: str, key: str, version_id: str | None) -> str | None:
        return object_kms_key(bucket, key, version_id)

    def object_tags(self, bucket: str, key: str, version_id: str | None) -> dict[str, str] | None:
        return object_tags(bucket, key, version_id)

    def multipart_upload_kms_key(self, bucket: str, key: str, upload_id: str) -> str | None:
        found = _bucket(bucket)
        upload = found.multiparts.get(upload_id) if found is not None else None
        if upload is None or upload.sse_encryption != "aws:kms":
            return None
        return upload.kms_key_id

    def ciphertext_kms_key(self, ciphertext: bytes) -> str | None:
        """moto's ciphertext blobs start with the raw key id; find the key's ARN."""
        key_id = ciphertext[:36].decode("ascii", errors="replace")
        for regions in list(kms_backends.values()):
            for backend in list(regions.values()):
                key = backend.keys.get(key_id)
                if key is not None:
                    return key.arn
        return None

    def grant_key_arn(self, grant_token: str) -> str | None:
        found = kms_grant_by_token(grant_token)
        return found[0].arn if found is not None else None

    def role_arn(self, account_id: str, role_name: str) -> str | None:
        role = _role(account_id, role_name)
        return role.arn if role is not None else None


class GatewayAuthorized:
    """moto's WSGI app as one local target's gateway reaches it: moto leaves authorization
    to the gateway for the requests that pass through here, and only for those.

    moto applies bucket policies to object requests itself, ignoring their conditions (so
    every conditional Deny denies). That check is moto's ``FakeBucket.get_permission``; while
    any adapter is open it is replaced by one that answers NEUTRAL for a request under way in
    an adapter (marked on its thread, by adapter) and defers to moto's own otherwise, so bare
    moto and other targets keep their behaviour. ``close`` (the target's stop) puts moto's
    own back once no adapter is open.

    While an adapter is open, moto also answers the same, faster (``_SAME_ANSWERS_FASTER``):
    its responses find an action's handler among their class's methods listed once per class
    (``_method_names``) instead of by ``inspect`` at every request, and its KMS keys make
    their private key on first use (``moto_kms``).
    """

    _open: ClassVar[set[GatewayAuthorized]] = set()
    _original: ClassVar[Any] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        with GatewayAuthorized._lock:
            if not GatewayAuthorized._open:
                GatewayAuthorized._original = FakeBucket.get_permission
                FakeBucket.get_permission = _deferring_get_permission  # type: ignore[method-assign]
                for module, name, faster, _own in _SAME_ANSWERS_FASTER:
                    setattr(module, name, faster)
            GatewayAuthorized._open.add(self)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.authorizing():
            return list(self._app(environ, start_response))

    @contextmanager
    def authorizing(self) -> Iterator[None]:
        """Within this block (one request thread), moto leaves authorization to the gateway."""
        previous = getattr(_decided, "adapter", None)
        _decided.adapter = self
        try:
            yield
        finally:
            _decided.adapter = previous

    @property
    def is_open(self) -> bool:
        return self in GatewayAuthorized._open

    def close(self) -> None:
        """Stop deferring for this target; moto's own check is back once none is open."""
        with GatewayAuthorized._lock:
            GatewayAuthorized._open.discard(self)
            if not GatewayAuthorized._open and GatewayAuthorized._original is not None:
                FakeBucket.get_permission = GatewayAuthorized._original  # type: ignore[method-assign]
                GatewayAuthorized._original = None
                for module, name, _faster, own in _SAME_ANSWERS_FASTER:
                    setattr(module, name, own)


_MOTO_METHOD_NAMES = moto_responses.method_names_from_class
_listed: dict[type, frozenset[str]] = {}


def _method_names(clazz: type) -> frozenset[str]:
    """The names of ``clazz``'s methods, as moto's ``method_names_from_class`` lists them,
    listed once per class: moto lists them with ``inspect.getmembers`` for every request (a
    tenth of moto's time for a call), only to test whether the action has a handler, and a
    response class's methods are those it was defined with."""
    names = _listed.get(clazz)
    if names is None:
        names = _listed[clazz] = frozenset(_MOTO_METHOD_NAMES(clazz))
    return names


_SAME_ANSWERS_FASTER = (
    (moto_responses, "method_names_from_class", _method_names, _MOTO_METHOD_NAMES),
    (moto_kms_models, "generate_private_key", PrivateKeyOnFirstUse, MOTO_GENERATE),
)
"""moto's functions replaced while an adapter is open, for speed alone, each answering as
moto's own: (module, name, replacement, moto's own)."""


def _deferring_get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    adapter = getattr(_decided, "adapter", None)
    if adapter is not None and adapter.is_open:
        return PermissionResult.NEUTRAL
    return GatewayAuthorized._original(self, action, resource)


def codecommit_repository(account_id: str, region: str, name: str) -> dict[str, str] | None:
    """The repository's metadata as moto's GetRepository holds it, or None when it does not
    exist: commits and branches are the local target's own, over moto's repositories."""
    repository = codecommit_backends[account_id][region].repositories.get(name)
    return dict(repository.repository_metadata) if repository is not None else None


@dataclass(frozen=True)
class RuleTarget:
    """One target of an enabled EventBridge rule whose pattern matched an event."""

    rule_arn: str
    arn: str
    role_arn: str | None


def matching_rule_targets(account_id: str, region: str, event: dict[str, Any]) -> list[RuleTarget]:
    """Targets of the enabled rules on the account's default bus whose pattern matches
    ``event`` (moto's own EventBridge pattern matcher decides)."""
    bus = events_backends[account_id][region].event_buses.get("default")
    if bus is None:
        return []
    return [
        RuleTarget(rule.arn, target["Arn"], target.get("RoleArn"))
        for rule in list(bus.rules.values())
        if rule.state == "ENABLED" and rule.event_pattern.matches_event(event)
        for target in rule.targets
    ]


# Records the runtimes keep current (harness/targets/local/services) -------------------------
def _sagemaker(account_id: str, region: str):  # type: ignore[no-untyped-def]
    return sagemaker_backends[account_id][region]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


TRAINING_STATUS_FIELDS = (
    "TrainingJobStatus",
    "SecondaryStatus",
    "SecondaryStatusTransitions",
    "FailureReason",
    "TrainingStartTime",
    "TrainingEndTime",
    "ModelArtifacts",
    "FinalMetricDataList",
)
"""DescribeTrainingJob fields the training runtime owns; moto's invented values are replaced."""


def set_training_job_status(
    account_id: str, region: str, name: str, fields: Mapping[str, Any]
) -> bool:
    """Make moto's record of training job ``name`` show ``fields`` (DescribeTrainingJob
    names) for every status field, absent ones cleared; False if the job is not recorded."""
    job = _sagemaker(account_id, region).training_jobs.get(name)
    if job is None:
        return False
    for field_name in TRAINING_STATUS_FIELDS:
        setattr(job, _snake(field_name), fields.get(field_name))
    job.last_modified_time = datetime.datetime.now(datetime.UTC)
    return True


@dataclass(frozen=True)
class HostedModel:
    """What an endpoint config's first production variant serves, as CreateModel recorded it."""

    variant_name: str
    model_name: str
    image: str
    model_data_url: str
    execution_role_arn: str


def endpoint_config_model(account_id: str, region: str, config_name: str) -> HostedModel | None:
    """The model behind ``config_name`` (first variant), or None if the config or its model
    does not exist."""
    backend = _sagemaker(account_id, region)
    config = backend.endpoint_configs.get(config_name)
    if config is None or not config.production_variants:
        return None
    variant = config.production_variants[0]
    model = backend._models.get(variant["ModelName"])
    if model is None:
        return None
    container = model.primary_container or (model.containers[0] if model.containers else {})
    return HostedModel(
        variant_name=variant["VariantName"],
        model_name=model.model_name,
        image=container.get("Image", ""),
        model_data_url=container.get("ModelDataUrl", ""),
        execution_role_arn=model.execution_role_arn,
    )


def endpoint_config_name(account_id: str, region: str, endpoint_name: str) -> str | None:
    """The config the endpoint currently runs, or None when the endpoint does not exist."""
    endpoint = _sagemaker(account_id, region).endpoints.get(endpoint_name)
    return endpoint.endpoint_config_name if endpoint is not None else None


def set_endpoint_status(
    account_id: str,
    region: str,
    endpoint_name: str,
    status: str,
    failure_reason: str | None = None,
    config_name: str | None = None,
) -> bool:
    """Make moto's record of the endpoint show ``status`` (and the reason, and the config it
    runs when given); False if the endpoint is not recorded (deleted meanwhile)."""
    endpoint = _sagemaker(account_id, region).endpoints.get(endpoint_name)
    if endpoint is None:
        return False
    endpoint.endpoint_status = status
    endpoint.failure_reason = failure_reason
    if config_name is not None:
        endpoint.endpoint_config_name = config_name
    endpoint.last_modified_time = datetime.datetime.now(datetime.UTC)
    return True


@dataclass(frozen=True)
class StoredFunction:
    """A Lambda function as CreateFunction stored it: configuration, code zip and role."""

    name: str
    arn: str
    handler: str
    runtime: str
    role_arn: str
    timeout: int
    memory_size: int
    environment: Mapping[str, str]
    code: bytes
    version: str


def lambda_function(
    account_id: str, region: str, name_or_arn: str, qualifier: str | None = None
) -> StoredFunction | None:
    """The function named by name, partial or full ARN, or None if there is none."""
    try:
        function = lambda_backends[account_id][region].get_function(name_or_arn, qualifier)
    except UnknownFunctionException:
        return None
    return StoredFunction(
        name=function.function_name,
        arn=function.function_arn,
        handler=function.handler,
        runtime=function.run_time,
        role_arn=function.role,
        timeout=int(function.timeout),
        memory_size=int(function.memory_size),
        environment=dict(function.environment_vars or {}),
        code=function.code_bytes,
        version=str(function.version),
    )


@dataclass(frozen=True)
class StoredStateMachine:
    """A state machine as CreateStateMachine stored it."""

    arn: str
    name: str
    definition: str
    role_arn: str


def state_machine(arn: str) -> StoredStateMachine | None:
    """The state machine with this ARN, or None if its account and region hold none."""
    parts = arn.split(":")
    if len(parts) < 7:
        return None
    backend = stepfunctions_backends[parts[4]][parts[3]]
    found = next((m for m in list(backend.state_machines) if m.arn == arn), None)
    if found is None:
        return None
    return StoredStateMachine(found.arn, found.name, found.definition, found.roleArn)


def lambda_function_policy(function_arn: str) -> str | None:
    """The function policy AddPermission built for the function ``function_arn`` names (its
    account's, whatever account asks), as AWS stores it; None without one.

    moto keeps an account id or an ARN given as ``Principal`` as the bare string; AWS stores
    ``{"AWS": "arn:aws:iam::<id>:root"}`` or ``{"AWS": <arn>}`` (Lambda developer guide,
    "Granting function access to other accounts",
    https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html).
    Doubtful: a qualified ARN (version or alias) is given the unqualified function's policy;
    moto keeps one policy per function, AWS one per version and alias.
    """
    parts = function_arn.split(":")
    if len(parts) < 7 or parts[5] != "function":
        return None
    try:
        function = lambda_backends[parts[4]][parts[3]].get_function(parts[6])
    except UnknownFunctionException:
        return None
    statements = [_aws_principal(dict(s)) for s in function.policy.statements]
    if not statements:
        return None
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": statements})


def _aws_principal(statement: dict[str, Any]) -> dict[str, Any]:
    principal = statement.get("Principal")
    if isinstance(principal, str) and principal != "*":
        arn = f"arn:{PARTITION}:iam::{principal}:root" if principal.isdigit() else principal
        statement["Principal"] = {"AWS": arn}
    return statement
