"""The system under proof from templates, with where each statement is written.

The three account templates are resolved offline as a deployment would wire them
(:func:`harness.access.resolve_account_stacks`). A template that is not one of them is a
fragment *put into* the infra: each of its resources replaces the properties it sets of the
infra's resource with the same logical id (a new resource joins the account template it
shares the most logical ids or parameters with), its parameters take the values the
deployment would give. That is how a fault of ``tests/gate/fixtures`` is put back in.

Every policy document keeps its file and the line of each statement, for findings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.access import STACK_ACCOUNT, resolve_account_stacks
from harness.allowlist import DEFAULT_ACCOUNTS, DEFAULT_OUTSIDER
from harness.cloudformation import ResolvedTemplate, ValidationError
from harness.proof import Document, Role, System
from harness.template_text import TemplateSyntaxError, decode_file
from harness.templates import ACCOUNT_TEMPLATES, plain

POLICY_TYPES = (
    "AWS::KMS::Key",
    "AWS::S3::BucketPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
)


class CannotRender(ValueError):
    """A fragment cannot be put into the infra (a parameter with no value, a bad template)."""


@dataclass(frozen=True)
class Location:
    """Where a policy document is written: its file, its line, and each statement's line."""

    file: Path
    line: int
    statements: tuple[int, ...] = ()

    def of(self, index: int) -> int:
        return self.statements[index] if index < len(self.statements) else self.line


@dataclass
class Rendered:
    """A system, where its policies are written, and which files it was rendered from."""

    system: System
    locations: dict[str, Location] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    bindings: dict[str, str] = field(default_factory=dict)  # rendered value -> placeholder
    overlay: Path | None = None


def _line(node: Any) -> int:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else 0


def _has(node: dict[str, Any] | list[Any], step: Any) -> bool:
    if isinstance(node, dict):
        return step in node
    return isinstance(step, int) and step < len(node)


def statement_lines(document: Any) -> tuple[int, ...]:
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, list):
        return tuple(_line(s) for s in statements)
    return (_line(statements),) if statements is not None else ()


@dataclass
class _Source:
    """One template file: its decoded nodes (with lines) and plain form."""

    path: Path
    decoded: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> _Source:
        try:
            decoded = decode_file(path)
        except TemplateSyntaxError as error:
            raise CannotRender(str(error)) from error
        if not isinstance(decoded, dict):
            raise CannotRender(f"{path}: not a template")
        return cls(path, decoded)

    @property
    def resources(self) -> dict[str, Any]:
        return self.decoded.get("Resources") or {}


def _target_stack(fragment: _Source, bases: Mapping[str, _Source]) -> str:
    """The account template a fragment belongs in."""
    ids = set(fragment.resources)
    parameters = set(fragment.decoded.get("Parameters") or {})

    def score(name: str) -> tuple[int, int]:
        base = bases[name]
        shared_ids = len(ids & set(base.resources))
        shared_parameters = len(parameters & set(base.decoded.get("Parameters") or {}))
        return shared_ids, shared_parameters

    return max(bases, key=score)


def _parameter_values(stacks: Mapping[str, ResolvedTemplate], prefix: str) -> dict[str, str]:
    """What the deployment gives a stack's parameters: the accounts, the prefix and every
    output of the account stacks."""
    values = {"Prefix": prefix}
    for stack in stacks.values():
        for name, parameter in stack.parameters.items():
            values.setdefault(name, str(parameter.value))
        for name, output in stack.outputs.items():
            values.setdefault(name, str(output.value))
    return values


_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+(?:\.[A-Za-z0-9.]+)?)\}")


def _references(node: Any) -> set[str]:
    """The logical ids ``node`` refers to (Ref, GetAtt, names in Sub strings)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value.split(".", 1)[0] if isinstance(value, str) else value[0])
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= set(_SUB_NAME.findall(text))
                found |= _references(value if isinstance(value, str) else value[1:])
            else:
                found |= _references(value)
    return found


def _wired(node: Any, elsewhere: Mapping[str, Any]) -> Any:
    """``node`` with references to resources of another account's stack replaced by their
    values there, as a deployment passes them on (a bucket's name, a role's ARN)."""
    if isinstance(node, list):
        return [_wired(item, elsewhere) for item in node]
    if not isinstance(node, dict):
        return node
    ref, target = node.get("Ref"), node.get("Fn::GetAtt")
    if isinstance(ref, str) and ref in elsewhere:
        return elsewhere[ref].physical_id
    if isinstance(target, str):
        target = target.split(".", 1)
    if isinstance(target, list) and target[0] in elsewhere:
        return elsewhere[target[0]].attributes[target[1]]
    sub = node.get("Fn::Sub")
    if isinstance(sub, str):

        def value(found: re.Match[str]) -> str:
            name, _, attribute = found.group(1).partition(".")
            resource = elsewhere.get(name)
            if resource is None:
                return found.group(0)
            return str(resource.attributes[attribute] if attribute else resource.physical_id)

        return {"Fn::Sub": _SUB_REFERENCE.sub(value, sub)}
    return {key: _wired(value, elsewhere) for key, value in node.items()}


def _role_arn(role_name: Any) -> dict[str, Any] | None:
    """The ARN of a role with this ``RoleName``, as a ``Fn::Sub`` (None: not predictable)."""
    if isinstance(role_name, dict) and set(role_name) == {"Fn::Sub"}:
        role_name = role_name["Fn::Sub"]
    if not isinstance(role_name, str):
        return None
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{role_name}"}


def _named_role_arns(node: Any, resources: Mapping[str, Any], own: Mapping[str, Any]) -> Any:
    """``node`` with ``GetAtt Role.Arn`` of the infra's named roles written as the ARN itself.

    A fragment's key policy naming a role by ``GetAtt`` would, put into the infra, close a
    dependency cycle (the role's policy names the key) that the fragment alone did not have;
    the ARN of a role with a ``RoleName`` is known before the role exists."""
    if isinstance(node, list):
        return [_named_role_arns(item, resources, own) for item in node]
    if not isinstance(node, dict):
        return node
    target = node.get("Fn::GetAtt")
    if isinstance(target, str):
        target = target.split(".", 1)
    if isinstance(target, list) and len(target) == 2 and target[1] == "Arn":
        role = resources.get(target[0]) or {}
        name = (own.get(target[0]) or {}).get("Properties", {}).get("RoleName")
        name = name or role.get("Properties", {}).get("RoleName")
        arn = _role_arn(name) if role.get("Type") == "AWS::IAM::Role" else None
        if arn is not None:
            return arn
    return {key: _named_role_arns(value, resources, own) for key, value in node.items()}


class Renderer:
    """Renders the infra's account templates, alone or with a fragment put in."""

    def __init__(
        self,
        templates: Mapping[str, Path] = ACCOUNT_TEMPLATES,
        accounts: Mapping[str, str] = DEFAULT_ACCOUNTS,
        prefix: str = "mlops",
        region: str = "us-east-1",
    ) -> None:
        self.bases = {name: _Source.load(path) for name, path in templates.items()}
        self.accounts, self.prefix, self.region = dict(accounts), prefix, region
        self._base_stacks = self._resolve({n: plain(s.decoded) for n, s in self.bases.items()})

    @property
    def base_files(self) -> tuple[Path, ...]:
        return tuple(source.path.resolve() for source in self.bases.values())

    def _resolve(self, templates: Mapping[str, dict[str, Any]]) -> dict[str, ResolvedTemplate]:
        try:
            return resolve_account_stacks(self.accounts, self.prefix, self.region, templates)
        except (ValidationError, KeyError, ValueError) as error:
            raise CannotRender(f"cannot resolve the account templates: {error}") from error

    def infra(self) -> Rendered:
        origins = {
            (name, rid): source for name, source in self.bases.items() for rid in source.resources
        }
        return self._rendered(self._base_stacks, origins, whole=True)

    def with_fragment(self, path: Path) -> Rendered | None:
        """The infra with ``path`` put in; None when it holds no policy."""
        fragment = _Source.load(path)
        if not any(r.get("Type") in POLICY_TYPES for r in fragment.resources.values()):
            return None
        merged = {name: plain(source.decoded) for name, source in self.bases.items()}
        values = _parameter_values(self._base_stacks, self.prefix)
        origins = {(n, rid): s for n, s in self.bases.items() for rid in s.resources}
        placed = self._placement(fragment)
        for rid, stack in placed.items():
            resource = fragment.resources[rid]
            template = merged[stack]
            self._add_parameters(path, fragment, template, values)
            given = _named_role_arns(plain(resource), template["Resources"], fragment.resources)
            elsewhere = {  # the infra's resources of other accounts, by their values there
                r: self._base_stacks[p].resources[r]
                for r, p in placed.items()
                if p != stack and r in self._base_stacks[p].resources
            }
            given = _wired(given, elsewhere)
            existing = template["Resources"].get(rid)
            if existing is not None and existing.get("Type") == given.get("Type"):
                existing.setdefault("Properties", {}).update(given.get("Properties", {}))
            else:
                template["Resources"][rid] = given
            origins[(stack, rid)] = fragment
        rendered = self._rendered(self._resolve(merged), origins, whole=False)
        rendered.overlay = path
        return rendered

    def _placement(self, fragment: _Source) -> dict[str, str]:
        """The account template each of a fragment's resources goes into: the one with that
        logical id, else the one holding what it refers to or what refers to it (a role's
        boundary goes with the role), else the fragment's best match.
        A new resource no policy refers to is left out (a state machine, a pipeline...)."""
        needed = {r for r, res in fragment.resources.items() if res.get("Type") in POLICY_TYPES}
        grown = needed
        while grown:  # and what they refer to, for their Refs to resolve
            grown = {
                ref
                for rid in grown
                for ref in _references(fragment.resources[rid])
                if ref in fragment.resources
            } - needed
            needed |= grown
        placed = {
            rid: name
            for rid in fragment.resources
            for name, base in self.bases.items()
            if rid in base.resources
        }
        default = _target_stack(fragment, self.bases)
        pending = [rid for rid in needed if rid not in placed]
        while pending:
            settled = [
                (rid, next((placed[r] for r in self._related(fragment, rid) if r in placed), None))
                for rid in pending
            ]
            found = [(rid, stack) for rid, stack in settled if stack is not None]
            for rid, stack in found or [(pending[0], default)]:
                placed[rid] = stack
            pending = [rid for rid in pending if rid not in placed]
        return placed

    @staticmethod
    def _related(fragment: _Source, rid: str) -> list[str]:
        """What resource ``rid`` refers to, then what refers to it."""
        resources = fragment.resources
        referring = [r for r, resource in resources.items() if rid in _references(resource)]
        return [*sorted(_references(resources[rid])), *referring]

    @staticmethod
    def _add_parameters(
        path: Path, fragment: _Source, template: dict[str, Any], values: Mapping[str, str]
    ) -> None:
        """The fragment's parameters, with the values the deployment gives them."""
        for name, spec in (fragment.decoded.get("Parameters") or {}).items():
            if name in template.get("Parameters", {}):
                continue
            if name not in values and "Default" not in spec:
                raise CannotRender(f"{path}: parameter {name} has no value in the infra")
            template.setdefault("Parameters", {})[name] = {  # the infra's value, as is
                "Type": spec.get("Type", "String"),
                "Default": values.get(name, spec.get("Default")),
            }

    def _rendered(
        self,
        stacks: Mapping[str, ResolvedTemplate],
        origins: Mapping[tuple[str, str], _Source],
        whole: bool,
    ) -> Rendered:
        locations: dict[str, Location] = {}

        def located(
            name: str, stack: str, rid: str, path: tuple[Any, ...], resolved: Any
        ) -> Document:
            """The document, noting where it is written: in the fragment where the
            fragment sets that property, else in the account template."""
            candidates = [origins[(stack, rid)], self.bases.get(stack)]
            for source in (c for c in candidates if c is not None):
                node: Any = source.resources.get(rid)
                for step in ("Properties", *path):
                    node = (
                        node[step] if isinstance(node, dict | list) and _has(node, step) else None
                    )
                if node is not None:
                    lines = statement_lines(node)
                    count = len(statement_lines(resolved)) if isinstance(resolved, dict) else 0
                    kept = lines if len(lines) == count else ()
                    locations[name] = Location(source.path, _line(node), kept)
                    break
            return Document(name, resolved)

        key_arn = bucket = bucket_account = ""
        key_policy = bucket_policy = None
        roles: dict[str, dict[str, Any]] = {}
        managed = {  # the customer managed policies the templates make, by ARN (their Ref)
            resource.physical_id: located(
                f"managed policy {resource.physical_id}",
                stack_name,
                rid,
                ("PolicyDocument",),
                resource.properties["PolicyDocument"],
            )
            for stack_name, stack in stacks.items()
            for rid, resource in stack.resources.items()
            if resource.type == "AWS::IAM::ManagedPolicy"
        }
        for stack_name, stack in stacks.items():
            account = self.accounts[STACK_ACCOUNT[stack_name]]
            for rid, resource in stack.resources.items():
                props = resource.properties
                if resource.type == "AWS::KMS::Key":
                    key_arn = resource.attributes["Arn"]
                    key_policy = located(
                        "key policy", stack_name, rid, ("KeyPolicy",), props["KeyPolicy"]
                    )
                elif resource.type == "AWS::S3::BucketPolicy":
                    bucket, bucket_account = props["Bucket"], account
                    bucket_policy = located(
                        "bucket policy",
                        stack_name,
                        rid,
                        ("PolicyDocument",),
                        props["PolicyDocument"],
                    )
                elif resource.type == "AWS::IAM::Role":
                    arn = resource.attributes["Arn"]
                    entry = roles.setdefault(arn, {"identity": [], "unread": []})
                    entry["trust"] = located(
                        f"trust policy of {arn}",
                        stack_name,
                        rid,
                        ("AssumeRolePolicyDocument",),
                        props["AssumeRolePolicyDocument"],
                    )
                    entry["logical"] = (stack_name, rid)
                    for i, inline in enumerate(props.get("Policies", [])):
                        entry["identity"].append(
                            located(
                                f"policy {inline['PolicyName']} of {arn}",
                                stack_name,
                                rid,
                                ("Policies", i, "PolicyDocument"),
                                inline["PolicyDocument"],
                            )
                        )
                    for policy_arn in props.get("ManagedPolicyArns", []):
                        if policy_arn in managed:
                            entry["identity"].append(managed[policy_arn])
                        else:
                            entry["unread"].append(policy_arn)
                    boundary = props.get("PermissionsBoundary")
                    entry["boundary"] = managed.get(boundary)
                    entry["unread_boundary"] = None if boundary in managed else boundary
        for stack_name, stack in stacks.items():
            for rid, resource in stack.resources.items():
                if resource.type not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                    continue
                props = resource.properties
                for role_name in props.get("Roles", []):
                    arn = next((a for a in roles if a.rsplit("/", 1)[-1] == role_name), None)
                    if arn is None:
                        continue
                    if resource.type == "AWS::IAM::ManagedPolicy":
                        roles[arn]["identity"].append(managed[resource.physical_id])
                        continue
                    roles[arn]["identity"].append(
                        located(
                            f"policy {props['PolicyName']} of {arn}",
                            stack_name,
                            rid,
                            ("PolicyDocument",),
                            props["PolicyDocument"],
                        )
                    )
        system = System(
            region=self.region,
            key_arn=key_arn,
            key_policy=key_policy,
            bucket=bucket,
            bucket_account=bucket_account,
            bucket_policy=bucket_policy,
            roles=tuple(
                Role(
                    arn,
                    r["trust"],
                    tuple(r["identity"]),
                    tuple(r["unread"]),
                    r["boundary"],
                    r["unread_boundary"],
                )
                for arn, r in roles.items()
                if "trust" in r
            ),
            whole=whole,
        )
        files = tuple(dict.fromkeys(s.path for s in origins.values()))
        return Rendered(system, locations, files, self.bindings(system))

    def bindings(self, system: System) -> dict[str, str]:
        """Rendered values and the placeholder a replay binds each to, longest first."""
        values = {
            system.key_arn: "${KeyArn}",
            system.bucket: "${Bucket}",
            DEFAULT_OUTSIDER: "${Outsider}",
            **{self.accounts[letter]: f"${{{letter}}}" for letter in "ABC"},
        }
        return dict(sorted(values.items(), key=lambda kv: -len(kv[0])))
