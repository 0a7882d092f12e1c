"""The cells of the principal x action matrix: key use, object access and role assumption.

Rows are every principal the allow-list names (its roles, canaries and deployers) and every
role of the deployment found live that it does not name (those expect nothing). Columns are
each direct KMS call on the key, each object call through S3 (which makes the KMS call for the
caller) per representative object, and ``sts:AssumeRole`` into each role of the deployment.
Each cell says what the allow-list expects and, for a refusal, the control: the same request
made by a principal the allow-list lets make it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.client import BaseClient

from harness.deploy import Deployment
from harness.evidence import Intent, PolicyKind
from harness.policy.access_matrix import Allowlist, Expected
from harness.probes.calls import Call
from harness.targets import ACCOUNT_ROLES, Target

HARNESS_PROBE = "harness-probe"
SAGEMAKER = "sagemaker.amazonaws.com"


class Matrix(StrEnum):
    """The three parts of the matrix, each a promise-2 check of its own."""

    KEY = "key"
    OBJECT = "object"
    TRUST = "trust"


@dataclass(frozen=True)
class Cell:
    """One expectation, and how a refusal of it becomes evidence (DESIGN.md section 7).

    ``control`` is the same request differing only in ``differs_in``, which must be allowed for
    a refusal to count; ``refused_by`` the kinds of policy a refusal must be decided by;
    ``resource_side``: the row is a role of the deployment, so a refusal is also probed with an
    admin-like identity policy attached to it (then the resource side must refuse).
    """

    id: str
    promise: int
    group: str  # the check it belongs to
    row: str
    column: str
    call: Call
    expected: bool
    control: Call | None = None
    differs_in: str = ""
    refused_by: frozenset[PolicyKind] = frozenset()
    resource_side: bool = False
    both_sides: bool = False  # an allowed request of a role of the deployment: it must need
    # the role's own identity policy as well as the resource's (no single policy grants it)


@dataclass(frozen=True)
class Row:
    """A principal of the matrix."""

    name: str
    arn: str
    expected: Expected | None  # None: a role of the deployment the allow-list does not name
    system_role: bool  # a role the deployment made (not a canary, root or deployer)

    def allows(self, category: str, action: str, target: str = "") -> bool:
        expected = self.expected
        if expected is None or expected.canary:
            return False
        if category == "key":
            return action in expected.key
        if category == "bucket":
            return action in expected.bucket.get(target, frozenset())
        return target in expected.assume


@dataclass(frozen=True)
class LiveRole:
    """A role of the deployment as IAM holds it now."""

    arn: str
    name: str
    services: tuple[str, ...]  # the service principals its trust policy allows


@dataclass(frozen=True)
class World:
    """What the cells are built from: the deployment's names, the allow-list bound to them, and
    its roles (found live for a run; rendered from the templates for naming cells up front)."""

    bucket: str
    key_arn: str
    other_key_arn: str
    prefix: str
    region: str
    accounts: Mapping[str, str]  # account role -> id
    deployers: Mapping[str, str]  # account role -> the deployer's role ARN
    allowlist: Allowlist
    roles: Sequence[LiveRole]
    ciphertext: Callable[[], bytes] = lambda: b""  # a ciphertext under the key, when needed

    @classmethod
    def of(
        cls,
        deployment: Deployment,
        allowlist: Allowlist,
        roles: Sequence[LiveRole],
        ciphertext: Callable[[], bytes],
    ) -> World:
        settings = deployment.settings
        return cls(
            deployment.bucket,
            deployment.key_arn,
            deployment.other_key_arn,
            settings.prefix,
            settings.region,
            settings.accounts,
            deployment.deployer_arns,
            allowlist,
            roles,
            ciphertext,
        )

    @property
    def bucket_account(self) -> str:
        return self.accounts["shared-services"]


def live_roles(
    target: Target, world_accounts: Mapping[str, str], prefix: str, skip: str
) -> list[LiveRole]:
    """Every role named ``<prefix>-*`` in the pipeline's accounts but ``skip`` (the canary),
    with the service principals its trust policy allows."""
    found = []
    for account in ACCOUNT_ROLES:
        iam = target.client("iam", target.session(world_accounts[account]))
        for page in iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                name = role["RoleName"]
                if name.startswith(f"{prefix}-") and name != skip:
                    found.append(
                        LiveRole(
                            role["Arn"], name, trusted_services(role["AssumeRolePolicyDocument"])
                        )
                    )
    return found


def trusted_services(trust: Mapping[str, Any] | str) -> tuple[str, ...]:
    """The service principals a trust policy's Allow statements name."""
    document = json.loads(trust) if isinstance(trust, str) else trust
    statements = document.get("Statement", [])
    services: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        if statement.get("Effect") == "Allow" and isinstance(statement.get("Principal"), dict):
            named = statement["Principal"].get("Service", [])
            services += [named] if isinstance(named, str) else list(named)
    return tuple(dict.fromkeys(services))


def probe_key(object_key: str) -> str:
    """Where a probe writes in place of an allow-list object: under the same top-level prefix
    (the policies grant by top-level prefix) but in ``harness-probe/``, so no probe lands among
    the training data the pipeline reads or replaces a real model or artifact."""
    top, _, rest = object_key.partition("/")
    return f"{top}/{HARNESS_PROBE}/{rest}"


def role_label(role_name: str, prefix: str) -> str:
    """A role of the deployment as rows and columns name it: without the run's prefix, so
    cells are named alike on every target and run."""
    return role_name.removeprefix(f"{prefix}-")


def rows(world: World) -> list[Row]:
    """The allow-list's principals, then the deployment's roles it does not name."""
    prefix = world.prefix
    system = {role.arn for role in world.roles}
    found = [Row(p.name, p.arn, p, p.arn in system) for p in world.allowlist.principals]
    named = {p.arn for p in world.allowlist.principals}
    found += [
        Row(role_label(r.name, prefix), r.arn, None, True)
        for r in world.roles
        if r.arn not in named
    ]
    return found


# Calls ------------------------------------------------------------------------------------
def tls(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"aws:SecureTransport": "true", **(context or {})}


@dataclass(frozen=True)
class KeyCall:
    """A direct KMS call on the key: the allow-list actions it needs (all of them)."""

    column: str
    actions: tuple[str, ...]
    invoke: Callable[[BaseClient, str, bytes], Any]
    via: str | None = None  # made by this AWS service on the caller's behalf
    administration: bool = False  # expected of the allow-list's key administrators only


KEY_CALLS = (
    KeyCall(
        "Encrypt", ("kms:Encrypt",), lambda kms, key, _: kms.encrypt(KeyId=key, Plaintext=b"x")
    ),
    KeyCall(
        "Decrypt",
        ("kms:Decrypt",),
        lambda kms, key, blob: kms.decrypt(KeyId=key, CiphertextBlob=blob),
    ),
    KeyCall(
        "ReEncrypt",
        ("kms:ReEncryptFrom", "kms:ReEncryptTo"),
        lambda kms, key, blob: kms.re_encrypt(
            CiphertextBlob=blob, SourceKeyId=key, DestinationKeyId=key
        ),
    ),
    KeyCall(
        "GenerateDataKey",
        ("kms:GenerateDataKey",),
        lambda kms, key, _: kms.generate_data_key(KeyId=key, KeySpec="AES_256"),
    ),
    KeyCall(
        "GenerateDataKeyWithoutPlaintext",
        ("kms:GenerateDataKeyWithoutPlaintext",),
        lambda kms, key, _: kms.generate_data_key_without_plaintext(KeyId=key, KeySpec="AES_256"),
    ),
    # A grant the principal asks for itself is never for an AWS resource: the allow-list grants
    # kms:CreateGrant only as SageMaker asks for it, on the role's behalf.
    KeyCall("CreateGrant", (), lambda kms, key, _: _grant(kms, key)),
    KeyCall(
        "CreateGrant via SageMaker",
        ("kms:CreateGrant",),
        lambda kms, key, _: _grant(kms, key),
        via=SAGEMAKER,
    ),
    # Administration, probed by reading the key policy: the statement that grants it also
    # grants PutKeyPolicy, with which an administrator can give itself use of the key.
    KeyCall(
        "GetKeyPolicy",
        ("kms:GetKeyPolicy",),
        lambda kms, key, _: kms.get_key_policy(KeyId=key, PolicyName="default"),
        administration=True,
    ),
)


def _grant(kms: BaseClient, key: str) -> Any:
    account_id = key.split(":")[4]
    return kms.create_grant(
        KeyId=key, GranteePrincipal=f"arn:aws:iam::{account_id}:root", Operations=["Decrypt"]
    )


def _expects_key_call(row: Row, call: KeyCall, administrators: frozenset[str]) -> bool:
    if call.administration:
        return row.name in administrators
    return bool(call.actions) and all(row.allows("key", action) for action in call.actions)


def key_call(world: World, row: Row, call: KeyCall) -> Call:
    key = world.key_arn
    context = tls({"kms:CallerAccount": row.arn.split(":")[4]})
    if call.via is not None:
        context |= {
            "aws:ViaAWSService": "true",
            "kms:ViaService": f"{call.via.split('.')[0]}.{world.region}.amazonaws.com",
            "kms:GrantIsForAWSResource": "true",
        }
    actions = call.actions or ("kms:CreateGrant",)
    intents = [Intent(row.arn, action, key, context) for action in actions]
    return Call(
        label=f"kms:{call.column} on the artifact key",
        principal=row.arn,
        service="kms",
        invoke=lambda kms: call.invoke(kms, key, world.ciphertext()),
        intent=Intent(row.arn, actions[0], key, context, also=tuple(intents[1:])),
        via=call.via,
    )


def object_call(world: World, principal: str, action: str, label: str) -> Call:
    """A put (SSE-KMS under the key) or a get of the label's probe object, over TLS."""
    bucket, key_arn = world.bucket, world.key_arn
    object_key = probe_key(world.allowlist.objects[label])
    object_arn = f"arn:aws:s3:::{bucket}/{object_key}"
    region = world.region
    kms_context = tls(
        {
            "kms:ViaService": f"s3.{region}.amazonaws.com",
            "kms:CallerAccount": principal.split(":")[4],
            "kms:EncryptionContext:aws:s3:arn": object_arn,
        }
    )
    if action == "s3:PutObject":
        context = tls(
            {
                "s3:x-amz-server-side-encryption": "aws:kms",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn,
            }
        )
        kms_action = "kms:GenerateDataKey"

        def invoke(s3: BaseClient) -> Any:
            return s3.put_object(
                Bucket=bucket,
                Key=object_key,
                Body=f"harness {label}".encode(),
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=key_arn,
            )
    else:
        context, kms_action = tls(), "kms:Decrypt"

        def invoke(s3: BaseClient) -> Any:
            response = s3.get_object(Bucket=bucket, Key=object_key)
            response["Body"].read()
            return response

    return Call(
        label=f"{action} {label} (s3://{bucket}/{object_key})",
        principal=principal,
        service="s3",
        invoke=invoke,
        intent=Intent(
            principal,
            action,
            object_arn,
            context,
            resource_account=world.bucket_account,
            also=(Intent(principal, kms_action, key_arn, kms_context),),
        ),
    )


def assume_call(principal: str, role: LiveRole) -> Call:
    return Call(
        label=f"sts:AssumeRole of {role.arn}",
        principal=principal,
        service="sts",
        invoke=lambda sts: sts.assume_role(RoleArn=role.arn, RoleSessionName="harness-trust"),
        intent=Intent(principal, "sts:AssumeRole", role.arn, tls()),
    )


def service_assume_call(service: str, role: LiveRole) -> Call:
    """``sts:AssumeRole`` of ``role`` by AWS service principal ``service`` (the prober makes
    it through the target, where the target can act as a service)."""
    return Call(
        label=f"sts:AssumeRole of {role.arn}",
        principal=service,
        service="sts",
        invoke=lambda _: None,
        intent=Intent(service, "sts:AssumeRole", role.arn, tls()),
    )


# Cells ------------------------------------------------------------------------------------
def cell_id(row: str, column: str) -> str:
    """The pytest id of a cell: the row's name up to any remark in brackets, and the column."""
    return f"{row.split(' (', 1)[0]}-{column}".replace(" ", "_")


def _first_allowed(candidates: list[Row], allowed: Callable[[Row], bool]) -> Row | None:
    return next((row for row in candidates if allowed(row)), None)


def _matrix_cell(
    group: str,
    row: Row,
    column: str,
    call: Call,
    expected: bool,
    control: Call | None,
    refused_by: frozenset[PolicyKind],
    differs_in: str = "the principal",
    resource_side: bool = True,
) -> Cell:
    """A promise-2 cell; a row that is a role of the deployment is probed from the resource
    side too where the allow-list refuses it (unless ``resource_side`` is off)."""
    return Cell(
        id=cell_id(row.name, column),
        promise=2,
        group=group,
        row=row.name,
        column=column,
        call=call,
        expected=expected,
        control=control,
        differs_in=differs_in,
        refused_by=refused_by,
        resource_side=resource_side and row.system_role and not expected,
        both_sides=resource_side and row.system_role and expected,
    )


# The key policy delegates administration to account A, whose own identity policies then
# decide who administers: within A an identity policy is what refuses, by design.
ADMINISTRATION_REFUSED_BY = frozenset({PolicyKind.KEY, PolicyKind.IDENTITY})


def key_cells(world: World) -> Iterator[Cell]:
    """Every row x direct KMS call on the key."""
    everyone = rows(world)
    admins = world.allowlist.key_administrators
    for call in KEY_CALLS:
        allowed = _first_allowed(everyone, lambda r, call=call: _expects_key_call(r, call, admins))
        control_call = call
        if allowed is None:  # nobody may: control with the call the allow-list does grant
            control_call = next(c for c in KEY_CALLS if c.column.startswith(call.column) and c.via)
            allowed = _first_allowed(
                everyone,
                lambda r, control_call=control_call: _expects_key_call(r, control_call, admins),
            )
        control = None if allowed is None else key_call(world, allowed, control_call)
        for row in everyone:
            yield _matrix_cell(
                "direct key use",
                row,
                call.column,
                key_call(world, row, call),
                _expects_key_call(row, call, admins),
                control,
                ADMINISTRATION_REFUSED_BY if call.administration else frozenset({PolicyKind.KEY}),
                "the principal" if control_call is call else "who asks for the grant",
                resource_side=not call.administration,
            )


def object_cells(world: World) -> Iterator[Cell]:
    """Every row x (put, get) x representative object, through S3. The bucket policy names
    each prefix's readers and writers, so a refusal counts only if it is what refused."""
    everyone = rows(world)
    for label in world.allowlist.objects:
        for action in world.allowlist.bucket_actions:
            allowed = _first_allowed(
                everyone, lambda r, action=action, label=label: r.allows("bucket", action, label)
            )
            column = f"{action.removeprefix('s3:').removesuffix('Object')} {label}"
            control = None if allowed is None else object_call(world, allowed.arn, action, label)
            for row in everyone:
                yield _matrix_cell(
                    "key use through S3",
                    row,
                    column,
                    object_call(world, row.arn, action, label),
                    row.allows("bucket", action, label),
                    control,
                    frozenset({PolicyKind.RESOURCE}),
                )


def trust_cells(world: World) -> Iterator[Cell]:
    """Every row x ``sts:AssumeRole`` into each role of the deployment."""
    everyone = rows(world)
    for role in world.roles:
        allowed = _first_allowed(everyone, lambda r, role=role: r.allows("assume", "", role.arn))
        if allowed is not None:
            control = assume_call(allowed.arn, role)
        elif role.services:
            control = service_assume_call(role.services[0], role)
        else:
            control = None
        column = f"Assume {role_label(role.name, world.prefix)}"
        for row in everyone:
            yield _matrix_cell(
                "role assumption",
                row,
                column,
                assume_call(row.arn, role),
                row.allows("assume", "", role.arn),
                control,
                frozenset({PolicyKind.TRUST, PolicyKind.RULE}),
            )
