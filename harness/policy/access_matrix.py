"""Who may do what with the shared key, the artifact bucket and the pipeline roles.

The matrix is computed from policies alone (rendered templates or a live account) by the
engine, and compared with the expected allow-list (``policies/access/allowlist.yaml``, read by
``harness.access``: this module does no I/O). Each
cell is AWS's decision for one principal, action and resource:

* ``key``: a direct KMS call on the key, over TLS. ``kms:CreateGrant`` is asked as AWS
  services ask it for their own resources (``kms:GrantIsForAWSResource`` true), which is the
  only way the allow-list grants it.
* ``bucket``: effective object access, the S3 action AND the KMS call S3 makes for the caller
  (put -> ``kms:GenerateDataKey``, get -> ``kms:Decrypt``, ``kms:ViaService`` = S3), for a TLS
  put with ``x-amz-server-side-encryption: aws:kms`` naming this key.
* ``assume``: ``sts:AssumeRole`` on each role, decided by its trust policy and, where AWS
  requires it, the caller's identity policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.policy.errors import PolicyError
from harness.policy.evaluate import Decision, Request, ResourceKind, evaluate
from harness.policy.organization import Organization
from harness.policy.policy import Policy, StatementRef
from harness.policy.principal import Principal

S3_KMS_CALL = {"s3:PutObject": "kms:GenerateDataKey", "s3:GetObject": "kms:Decrypt"}
KEY_CALL_CONTEXT: dict[str, dict[str, str]] = {
    "kms:CreateGrant": {"kms:GrantIsForAWSResource": "true"},
}


_EVERYTHING = {"Effect": "Allow", "Action": "*", "Resource": "*"}
FULL_AWS_ACCESS = Policy.parse(
    {"Version": "2012-10-17", "Statement": [_EVERYTHING]}, name="FullAWSAccess"
)
RCP_FULL_AWS_ACCESS = Policy.parse(
    {"Version": "2012-10-17", "Statement": [{**_EVERYTHING, "Principal": "*"}]},
    name="RCPFullAWSAccess",
)


def guarded_organization(
    management: str, guarded: Sequence[str], scps: Sequence[Policy]
) -> Organization | None:
    """The organization ``harness run --scp`` makes: ``management`` (A) its management
    account, the ``guarded`` accounts (B, C) members under the root, ``FullAWSAccess`` at
    the root and on each member, and the given SCPs attached to each guarded account beside
    it (so their denies, not their allows, limit); ``RCPFullAWSAccess`` alone on the RCP
    side. None without SCPs."""
    if not scps:
        return None
    root = "r-guardrails"
    attached = {root: (FULL_AWS_ACCESS,)} | {a: (FULL_AWS_ACCESS, *scps) for a in guarded}
    rcps = {target: (RCP_FULL_AWS_ACCESS,) for target in (root, *guarded)}
    parents = {account: () for account in guarded}
    return Organization("o-guardrails", root, management, parents, attached, rcps)


@dataclass(frozen=True)
class Expected:
    """One principal of the allow-list; canaries expect nothing, deployers only what they
    may assume."""

    name: str
    arn: str
    key: frozenset[str] = frozenset()
    bucket: Mapping[str, frozenset[str]] = field(default_factory=dict)  # object label -> actions
    assume: frozenset[str] = frozenset()
    canary: bool = False
    deployer: bool = False
    identity: Policy | None = None  # the identity policy the allow-list assumes it holds


@dataclass(frozen=True)
class Allowlist:
    """The parsed allow-list with placeholders bound."""

    key_actions: tuple[str, ...]
    bucket_actions: tuple[str, ...]
    objects: Mapping[str, str]  # label -> object key
    principals: tuple[Expected, ...]
    object_keys: Mapping[str, str] = field(default_factory=dict)  # label -> key pattern
    services: Mapping[str, frozenset[str]] = field(default_factory=dict)  # service -> roles
    key_administrators: frozenset[str] = frozenset()  # names that may administer the key

    def expected(self, arn: str) -> Expected | None:
        return next((p for p in self.principals if p.arn == arn), None)


def _bucket_map(raw: Any, objects: Mapping[str, str]) -> dict[str, frozenset[str]]:
    if isinstance(raw, list):  # a plain list of actions applies to every object
        return {label: frozenset(raw) for label in objects}
    return {label: frozenset(actions) for label, actions in (raw or {}).items()}


def _identity(spec: Mapping[str, Any]) -> Policy | None:
    raw = spec.get("identity")
    return Policy.parse(raw, f"identity of {spec['name']}") if raw else None


def parse_allowlist(data: Mapping[str, Any], path: str) -> Allowlist:
    """The allow-list from its parsed document (placeholders already bound); errors name
    ``path``, where it was read."""
    objects = dict(data.get("objects") or {})
    principals = [
        Expected(
            name=name,
            arn=spec["arn"],
            key=frozenset(spec.get("key") or ()),
            bucket=_bucket_map(spec.get("bucket"), objects),
            assume=frozenset(spec.get("assume") or ()),
        )
        for name, spec in (data.get("principals") or {}).items()
    ]
    principals += [
        Expected(
            name=spec["name"],
            arn=spec["arn"],
            canary=True,
            identity=_identity(spec),
        )
        for spec in data.get("canaries") or ()
    ]
    principals += [
        Expected(
            name=spec["name"],
            arn=spec["arn"],
            assume=frozenset(spec.get("assume") or ()),
            deployer=True,
            identity=_identity(spec),
        )
        for spec in data.get("deployers") or ()
    ]
    for label in {lbl for p in principals for lbl in p.bucket}:
        if label not in objects:
            raise PolicyError(f"{path}: bucket object {label!r} is not listed under objects")
    object_keys = dict(data.get("object-keys") or {})
    if set(object_keys) - set(objects):
        raise PolicyError(f"{path}: object-keys names labels not under objects")
    names = {p.name for p in principals}
    administrators = frozenset(data.get("key-administrators") or ())
    if administrators - names:
        raise PolicyError(
            f"{path}: key-administrators names no principal {sorted(administrators - names)}"
        )
    return Allowlist(
        tuple(data["actions"]["key"]),
        tuple(data["actions"]["bucket"]),
        objects,
        tuple(principals),
        object_keys,
        {name: frozenset(roles) for name, roles in (data.get("services") or {}).items()},
        administrators,
    )


@dataclass(frozen=True)
class Subject:
    """A principal to put in the matrix, with the identity policies it holds, its
    permissions boundary and the session policies its session was made with."""

    name: str
    principal: Principal
    identity: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    session: tuple[Policy, ...] = ()

    def decide(
        self,
        request: Request,
        resource: Policy | None,
        resource_account: str | None = None,
        resource_kind: ResourceKind = "generic",
        organization: Organization | None = None,
    ) -> Decision:
        """The engine's decision of the subject's ``request``, with every policy that
        applies to it: the SCPs over its account and the RCPs over the resource's, where an
        ``organization`` attaches them."""
        scps: list[Policy] = []
        rcps: list[Policy] = []
        if organization is not None:
            scps = organization.scps_for(self.principal)
            account = resource_account or request.resource.split(":")[4]
            rcps = organization.rcps_for(request.action, account)
        return evaluate(
            request,
            self.identity,
            resource,
            resource_account,
            resource_kind,
            boundary=self.boundary,
            scps=scps,
            session=self.session,
            rcps=rcps,
        )


@dataclass(frozen=True)
class Key:
    arn: str
    policy: Policy | None


@dataclass(frozen=True)
class Bucket:
    name: str
    account: str
    policy: Policy | None


@dataclass(frozen=True)
class Role:
    arn: str
    trust: Policy


@dataclass(frozen=True)
class Cell:
    """One decision of the matrix; ``target`` is the object label or role/key ARN."""

    subject: str
    principal_arn: str
    category: str  # "key" | "bucket" | "assume"
    action: str
    target: str
    resource: str
    allowed: bool
    reason: str
    statements: tuple[StatementRef, ...]


@dataclass(frozen=True)
class Matrix:
    cells: tuple[Cell, ...]

    def allowed(self, principal_arn: str, category: str, action: str, target: str) -> bool:
        return any(
            c.allowed
            for c in self.cells
            if (c.principal_arn, c.category, c.action, c.target)
            == (principal_arn, category, action, target)
        )


def subjects_from_allowlist(
    allowlist: Allowlist,
    identities: Mapping[str, Sequence[Policy]] | None = None,
    extra: Iterable[Subject] = (),
    boundaries: Mapping[str, Policy] | None = None,
) -> list[Subject]:
    """Every allow-list principal and canary, with the identity policies known for it.

    ``identities`` maps a principal ARN to its (rendered or live) identity policies, and
    ``boundaries`` to its permissions boundary; a canary also holds the admin-like policy
    the allow-list gives it.
    """
    identities = identities or {}
    boundaries = boundaries or {}
    subjects = []
    for expected in allowlist.principals:
        held = list(identities.get(expected.arn, ()))
        if expected.identity is not None:
            held.append(expected.identity)
        principal = Principal.from_arn(expected.arn)
        boundary = boundaries.get(expected.arn)
        subjects.append(Subject(expected.name, principal, tuple(held), boundary))
    return subjects + list(extra)


def _cell(
    subject: Subject, category: str, action: str, target: str, resource: str, decision: Decision
) -> Cell:
    return Cell(
        subject.name,
        subject.principal.arn,
        category,
        action,
        target,
        resource,
        decision.allowed,
        decision.reason,
        decision.statements,
    )


def _bucket_cell(
    subject: Subject,
    action: str,
    label: str,
    object_key: str,
    key: Key,
    bucket: Bucket,
    region: str,
    organization: Organization | None,
) -> Cell:
    principal = subject.principal
    object_arn = f"arn:aws:s3:::{bucket.name}/{object_key}"
    s3_context = {"aws:SecureTransport": "true"}
    if action == "s3:PutObject":
        s3_context |= {
            "s3:x-amz-server-side-encryption": "aws:kms",
            "s3:x-amz-server-side-encryption-aws-kms-key-id": key.arn,
        }
    s3 = subject.decide(
        Request(principal, action, object_arn, s3_context),
        bucket.policy,
        bucket.account,
        organization=organization,
    )
    kms_action = S3_KMS_CALL[action]
    kms_context = {
        "aws:SecureTransport": "true",
        "kms:ViaService": f"s3.{region}.amazonaws.com",
        "kms:CallerAccount": principal.account or "",
        "kms:EncryptionContextKeys": ["aws:s3:arn"],
        "kms:EncryptionContext:aws:s3:arn": object_arn,
    }
    kms = subject.decide(
        Request(principal, kms_action, key.arn, kms_context),
        key.policy,
        resource_kind="kms-key",
        organization=organization,
    )
    if not s3.allowed:
        reason = f"S3: {s3.reason}"
    elif not kms.allowed:
        reason = f"the {kms_action} call S3 makes for the caller: {kms.reason}"
    else:
        reason = f"S3: {s3.reason} KMS via S3: {kms.reason}"
    statements = s3.statements + kms.statements if s3.allowed else s3.statements
    return Cell(
        subject.name,
        principal.arn,
        "bucket",
        action,
        label,
        object_arn,
        s3.allowed and kms.allowed,
        reason,
        statements,
    )


def compute_matrix(
    subjects: Iterable[Subject],
    key: Key,
    bucket: Bucket,
    roles: Iterable[Role],
    allowlist: Allowlist,
    region: str = "us-east-1",
    organization: Organization | None = None,
) -> Matrix:
    """Decide every (subject, action, resource) the allow-list speaks about (under the
    ``organization``'s SCPs and RCPs, when given)."""
    cells: list[Cell] = []
    role_list = list(roles)
    for subject in subjects:
        principal = subject.principal
        for action in allowlist.key_actions:
            context = {"aws:SecureTransport": "true", "kms:CallerAccount": principal.account or ""}
            context |= KEY_CALL_CONTEXT.get(action, {})
            decision = subject.decide(
                Request(principal, action, key.arn, context),
                key.policy,
                resource_kind="kms-key",
                organization=organization,
            )
            cells.append(_cell(subject, "key", action, key.arn, key.arn, decision))
        for label, object_key in allowlist.objects.items():
            for action in allowlist.bucket_actions:
                cells.append(
                    _bucket_cell(
                        subject, action, label, object_key, key, bucket, region, organization
                    )
                )
        for role in role_list:
            request = Request(
                principal, "sts:AssumeRole", role.arn, {"aws:SecureTransport": "true"}
            )
            decision = subject.decide(
                request, role.trust, resource_kind="role-trust", organization=organization
            )
            cells.append(_cell(subject, "assume", "sts:AssumeRole", role.arn, role.arn, decision))
    return Matrix(tuple(cells))


@dataclass(frozen=True)
class Finding:
    """A cell where the policies disagree with the allow-list."""

    subject: str
    principal_arn: str
    category: str
    action: str
    resource: str
    expected: bool
    actual: bool
    reason: str
    statements: tuple[StatementRef, ...]

    def __str__(self) -> str:
        verdict = (
            "allowed but the allow-list denies it"
            if self.actual
            else "denied but the allow-list expects it"
        )
        return (
            f"{self.subject} ({self.principal_arn}): {self.action} on {self.resource} is "
            f"{verdict}. {self.reason}"
        )


def _expects(expected: Expected | None, cell: Cell) -> bool:
    if expected is None or expected.canary:
        return False
    if cell.category == "key":
        return cell.action in expected.key
    if cell.category == "bucket":
        return cell.action in expected.bucket.get(cell.target, frozenset())
    return cell.target in expected.assume


def diff(matrix: Matrix, allowlist: Allowlist) -> list[Finding]:
    """Every cell whose decision differs from the allow-list (unknown principals expect none)."""
    findings = []
    for cell in matrix.cells:
        expected = _expects(allowlist.expected(cell.principal_arn), cell)
        if expected != cell.allowed:
            findings.append(
                Finding(
                    cell.subject,
                    cell.principal_arn,
                    cell.category,
                    cell.action,
                    cell.resource,
                    expected,
                    cell.allowed,
                    cell.reason,
                    cell.statements,
                )
            )
    return findings
