"""Turn an identified API call into the IAM authorization requests AWS makes for it.

One API call can need several decisions: CopyObject is ``s3:PutObject`` on the target and
``s3:GetObject`` on the source; CreateStateMachine also needs ``iam:PassRole`` on its role; an
SSE-KMS PutObject makes S3 call ``kms:GenerateDataKey`` with the caller's credentials. The
tables (actions, ARN templates, condition keys, implied calls) live in
``data/iam_actions.yaml``; this module only interprets them, and resolves what needs live
state (KMS aliases, a bucket's default encryption, an object's key) through
:class:`ResourceState` callbacks that the local target wires to moto.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote

from harness.gateway.credentials import Credential, PrincipalType
from harness.gateway.operations import OperationCall
from harness.yaml_safe import safe_load

ContextValue = str | list[str]
_PLACEHOLDER = re.compile(r"\{([\w.]+)(?:\|(\w+))?\}")
_KMS_SSE = frozenset({"aws:kms", "aws:kms:dsse"})
_S3_MANAGED_KEY = "alias/aws/s3"
_S3_PRINCIPAL = "s3.amazonaws.com"


@dataclass(frozen=True)
class AuthzCall:
    """One authorization request for the policy engine.

    ``on_behalf_of`` names the service principal (``s3.amazonaws.com``) when a service makes
    the call with the caller's credentials, ``None`` when the caller makes it directly.
    """

    action: str
    resource: str
    context: dict[str, ContextValue] = field(default_factory=dict)
    on_behalf_of: str | None = None


class UnmappedOperationError(LookupError):
    """The table cannot work out the resource of an operation: the gateway refuses it rather
    than authorize it on ``*``, which would skip every resource policy."""

    def __init__(self, operation: str) -> None:
        super().__init__(
            f"{operation} is not mapped to an IAM action and resource by the local target; refused"
        )
        self.operation = operation


@dataclass(frozen=True)
class RequestFacts:
    """What the gateway knows about the connection rather than the API call."""

    secure_transport: bool
    source_ip: str | None = None
    auth_type: str = "REST-HEADER"  # s3:authType; REST-QUERY-STRING for presigned URLs
    now: datetime.datetime | None = None


class ResourceState(Protocol):
    """Live state the mapping needs; the local target answers from moto's backends.

    Each method returns ``None`` when the thing does not exist or is not KMS-encrypted.
    Key references may be a key id, key ARN, alias name or alias ARN.
    """

    def kms_key_arn(self, key_ref: str, *, account_id: str, region: str) -> str | None:
        """The key ARN a key reference designates, resolving aliases."""

    def bucket_default_kms_key(self, bucket: str) -> str | None:
        """The key of the bucket's default SSE-KMS encryption (``alias/aws/s3`` if unnamed)."""

    def object_kms_key(self, bucket: str, key: str, version_id: str | None) -> str | None:
        """The KMS key an existing object is encrypted under."""

    def multipart_upload_kms_key(self, bucket: str, key: str, upload_id: str) -> str | None:
        """The KMS key a multipart upload was created with."""

    def ciphertext_kms_key(self, ciphertext: bytes) -> str | None:
        """The KMS key that produced a ciphertext blob (Decrypt without ``KeyId``)."""

    def object_tags(self, bucket: str, key: str, version_id: str | None) -> dict[str, str] | None:
        """The tags of an existing object (``s3:ExistingObjectTag/<key>``)."""

    def grant_key_arn(self, grant_token: str) -> str | None:
        """The key of the grant a grant token stands for (RetireGrant by token)."""

    def role_arn(self, account_id: str, role_name: str) -> str | None:
        """A role's ARN including its path."""

    def organizations_arn(self, entity_id: str, *, caller_account: str) -> str | None:
        """The ARN of a root, OU, account or policy of the caller's organization, by id."""


class NoResourceState:
    """State for a world with no resources: nothing resolves, ARNs are built from names."""

    def kms_key_arn(self, key_ref: str, *, account_id: str, region: str) -> str | None:
        return None

    def bucket_default_kms_key(self, bucket: str) -> str | None:
        return None

    def object_kms_key(self, bucket: str, key: str, version_id: str | None) -> str | None:
        return None

    def multipart_upload_kms_key(self, bucket: str, key: str, upload_id: str) -> str | None:
        return None

    def ciphertext_kms_key(self, ciphertext: bytes) -> str | None:
        return None

    def object_tags(self, bucket: str, key: str, version_id: str | None) -> dict[str, str] | None:
        return None

    def grant_key_arn(self, grant_token: str) -> str | None:
        return None

    def role_arn(self, account_id: str, role_name: str) -> str | None:
        return None

    def organizations_arn(self, entity_id: str, *, caller_account: str) -> str | None:
        return None


def regional_endpoint(service_principal: str, region: str) -> str:
    """How ``kms:ViaService`` names a service principal in a region:
    ``s3.amazonaws.com`` -> ``s3.<region>.amazonaws.com``."""
    name, _, domain = service_principal.partition(".")
    return f"{name}.{region}.{domain}"


@functools.cache
def load_table() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data/iam_actions.yaml").read_text()
    return safe_load(text)


@dataclass(frozen=True)
class _Env:
    """Everything a template may refer to."""

    params: Mapping[str, Any]
    partition: str
    region: str
    caller_account: str
    auth_type: str
    via_service: str | None  # the service principal calling with the caller's credentials
    state: ResourceState

    def param(self, path: str) -> Any:
        value: Any = self.params
        for part in path.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
        return value

    def builtin(self, name: str) -> str | None:
        return {
            "partition": self.partition,
            "region": self.region,
            "caller_account": self.caller_account,
            "auth_type": self.auth_type,
            "via_aws_service": str(self.via_service is not None).lower(),
            "via_service": self.via_service and regional_endpoint(self.via_service, self.region),
        }.get(name)


def _kms_key(value: Any, env: _Env) -> str | None:
    if value is None:
        return None
    ref = str(value)
    resolved = env.state.kms_key_arn(ref, account_id=env.caller_account, region=env.region)
    if resolved is not None or ref.startswith("arn:"):
        return resolved or ref
    prefix = f"arn:{env.partition}:kms:{env.region}:{env.caller_account}"
    return f"{prefix}:{ref}" if ref.startswith("alias/") else f"{prefix}:key/{ref}"


def _kms_alias(value: Any, env: _Env) -> str | None:
    """``kms:RequestAlias``: the alias name when the request names the key by alias."""
    if value is None:
        return None
    ref = str(value)
    if ref.startswith("alias/"):
        return ref
    _, sep, alias = ref.partition(":alias/")
    return f"alias/{alias}" if ref.startswith("arn:") and sep else None


def _kms_ciphertext_key(value: Any, env: _Env) -> str | None:
    if value is None:
        return None
    try:
        blob = value if isinstance(value, bytes) else base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return None
    return _kms_key(env.state.ciphertext_kms_key(blob), env)


def _kms_grant_key(value: Any, env: _Env) -> str | None:
    return None if value is None else env.state.grant_key_arn(str(value))


def _names(value: Any, env: _Env) -> list[str] | None:
    """The member names of a structure (``kms:GrantConstraintType`` from ``Constraints``)."""
    return [str(name) for name in value] if isinstance(value, Mapping) and value else None


def _s3_copy_source(value: Any, env: _Env) -> str | None:
    """``x-amz-copy-source`` is ``[/]bucket/key[?versionId=…]``, URL-encoded."""
    if value is None:
        return None
    return unquote(str(value).split("?", 1)[0]).lstrip("/")


def _s3_tagging(value: Any, env: _Env) -> list[dict[str, str]] | None:
    """The tags an S3 request sets: the ``x-amz-tagging`` header is URL-encoded
    (``k=v&k2=v2``), PutObjectTagging's body a ``TagSet``."""
    if isinstance(value, str):
        pairs = parse_qsl(value, keep_blank_values=True)
        return [{"Key": key, "Value": tag_value} for key, tag_value in pairs]
    if isinstance(value, Mapping):
        return list(value.get("TagSet") or ())
    return None


def _iam_role(value: Any, env: _Env) -> str | None:
    if value is None:
        return None
    known = env.state.role_arn(env.caller_account, str(value))
    path = _iam_path(env.param("Path"), env)
    return known or f"arn:{env.partition}:iam::{env.caller_account}:role{path}{value}"


def _iam_path(value: Any, env: _Env) -> str:
    return str(value) if value else "/"


def _lambda_function(value: Any, env: _Env) -> str | None:
    """A function name in any form Lambda accepts -> the (qualified) function ARN."""
    if value is None:
        return None
    name = str(value)
    if name.startswith("arn:"):
        arn = name
    elif ":function:" in name:
        arn = f"arn:{env.partition}:lambda:{env.region}:{name}"
    else:
        arn = f"arn:{env.partition}:lambda:{env.region}:{env.caller_account}:function:{name}"
    qualifier = env.param("Qualifier")
    if qualifier and arn.count(":") == 6:
        arn += f":{qualifier}"
    return arn


def _cloudformation_stack(value: Any, env: _Env) -> str | None:
    if value is None:
        return None
    name = str(value)
    if name.startswith("arn:"):
        return name
    return f"arn:{env.partition}:cloudformation:{env.region}:{env.caller_account}:stack/{name}/*"


def _events_rule(value: Any, env: _Env) -> str | None:
    """A rule name -> its ARN, which names the event bus unless it is the default one."""
    if value is None or str(value).startswith("arn:"):
        return None if value is None else str(value)
    bus = str(env.param("EventBusName") or "default").rsplit("/", 1)[-1]
    path = str(value) if bus == "default" else f"{bus}/{value}"
    return f"arn:{env.partition}:events:{env.region}:{env.caller_account}:rule/{path}"


def _organizations_entity(value: Any, env: _Env) -> str | None:
    """An id of the caller's organization (``p-…``, ``ou-…``, ``r-…``, an account) -> its ARN;
    None (unmapped, refused) when the organization has no such entity."""
    if value is None:
        return None
    return env.state.organizations_arn(str(value), caller_account=env.caller_account)


def _lower(value: Any, env: _Env) -> str | None:
    return None if value is None else str(value).lower()


_RESOLVERS: dict[str, Callable[[Any, _Env], Any]] = {
    "kms_key": _kms_key,
    "kms_alias": _kms_alias,
    "kms_ciphertext_key": _kms_ciphertext_key,
    "kms_grant_key": _kms_grant_key,
    "names": _names,
    "s3_copy_source": _s3_copy_source,
    "s3_tagging": _s3_tagging,
    "iam_role": _iam_role,
    "iam_path": _iam_path,
    "lambda_function": _lambda_function,
    "cloudformation_stack": _cloudformation_stack,
    "events_rule": _events_rule,
    "organizations_entity": _organizations_entity,
    "lower": _lower,
}


def _as_context_value(value: Any) -> ContextValue | None:
    if value is None or isinstance(value, Mapping):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return [str(item) for item in value if not isinstance(item, Mapping)]
    return str(value)


def _lookup(name: str, resolver: str | None, env: _Env) -> Any:
    builtin = env.builtin(name)
    value = builtin if builtin is not None else env.param(name)
    if resolver is not None:
        return _RESOLVERS[resolver](value, env)
    return value


def render(template: str, env: _Env) -> ContextValue | None:
    """Fill a template; ``None`` if it names an absent parameter. A lone placeholder keeps
    list values as lists (multivalued condition keys)."""
    whole = _PLACEHOLDER.fullmatch(template)
    if whole is not None:
        return _as_context_value(_lookup(whole[1], whole[2], env))
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        value = _as_context_value(_lookup(match[1], match[2], env))
        if not isinstance(value, str):
            missing = True
            return ""
        return value

    text = _PLACEHOLDER.sub(substitute, template)
    return None if missing else text


def _principal_context(
    credential: Credential, facts: RequestFacts, region: str, now: datetime.datetime
) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {
        "aws:PrincipalArn": credential.principal_arn,
        "aws:PrincipalAccount": credential.account_id,
        "aws:PrincipalType": credential.principal_type.value,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:RequestedRegion": region,
        "aws:SecureTransport": str(facts.secure_transport).lower(),
        "aws:ViaAWSService": "false",
    }
    if credential.principal_type is PrincipalType.USER:
        context["aws:username"] = credential.arn.rsplit("/", 1)[1]
    # IAM guide, "Passing session tags in AWS STS": a session's tags (and its role's) are
    # aws:PrincipalTag/<key> (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html).
    for key, value in credential.tags:
        context[f"aws:PrincipalTag/{key}"] = value
    if credential.source_identity:
        context["aws:SourceIdentity"] = credential.source_identity
    if credential.is_temporary:
        context["aws:TokenIssueTime"] = credential.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if facts.source_ip:
        context["aws:SourceIp"] = facts.source_ip
    if credential.called_via:
        context["aws:ViaAWSService"] = "true"
        context["aws:CalledVia"] = list(credential.called_via)
        context["aws:CalledViaFirst"] = credential.called_via[0]
        context["aws:CalledViaLast"] = credential.called_via[-1]
    return context


class AuthorizationMapper:
    """Maps :class:`OperationCall` s to :class:`AuthzCall` s using the data table."""

    def __init__(
        self, state: ResourceState | None = None, table: Mapping[str, Any] | None = None
    ) -> None:
        self._state: ResourceState = state or NoResourceState()
        self._table = table if table is not None else load_table()

    def calls(
        self, call: OperationCall, credential: Credential, facts: RequestFacts
    ) -> list[AuthzCall]:
        """All authorization requests for ``call`` by ``credential``, direct ones first;
        :class:`UnmappedOperationError` when a resource cannot be worked out."""
        prefix = call.signing_name
        service = self._table.get(call.service_name) or self._table.get(prefix, {})
        spec = service.get("operations", {}).get(call.operation, {})
        if spec.get("no_authorization"):
            return []
        now = facts.now or datetime.datetime.now(datetime.UTC)
        env = _Env(
            params=call.params,
            partition=credential.arn.split(":")[1],
            region=call.region,
            caller_account=credential.account_id,
            auth_type=facts.auth_type,
            via_service=credential.via_service,
            state=self._state,
        )
        context = _principal_context(credential, facts, call.region, now)
        context.update(self._service_context(service, spec, call.operation, env))
        context.update(self._existing_object_tags(service, call.operation, env))

        operation = f"{prefix}:{call.operation}"
        action = self._action(prefix, spec.get("action", call.operation), spec, env)
        result = [
            AuthzCall(action, resource, dict(context))
            for resource in self._resources(service, spec.get("resources"), env, operation)
        ]
        for extra in spec.get("also", []):
            if "if_param" in extra and env.param(extra["if_param"]) is None:
                continue
            extra_action = self._action(prefix, extra["action"], {}, env)
            result += [
                AuthzCall(extra_action, resource, dict(context))
                for resource in self._resources(service, extra.get("resources"), env, operation)
            ]
        pass_role = spec.get("pass_role")
        if pass_role is not None:
            role = env.param(pass_role["param"])
            if role:
                passed = dict(context, **{"iam:PassedToService": pass_role["service"]})
                result.append(AuthzCall("iam:PassRole", str(role), passed))
        for implied in service.get("implied_kms", {}).get(call.operation, []):
            kms_call = self._implied_kms_call(implied, call, credential, facts, now)
            if kms_call is not None:
                result.append(kms_call)
        return result

    @staticmethod
    def _action(prefix: str, name: str, spec: Mapping[str, Any], env: _Env) -> str:
        for param, override in spec.get("action_if_param", {}).items():
            if env.param(param) is not None:
                name = override
        return name if ":" in name else f"{prefix}:{name}"

    @staticmethod
    def _resources(
        service: Mapping[str, Any], resource_types: list[str] | None, env: _Env, operation: str
    ) -> list[str]:
        """The resource ARNs; ``"*"`` only where the table says the action has no resource
        type."""
        arns = service.get("arns", {})
        if resource_types is None:
            resource_types = [
                kind
                for param, kind in service.get("resource_by_param", [])
                if env.param(param) is not None
            ][:1]
        rendered = [kind if kind == "*" else render(arns[kind], env) for kind in resource_types]
        found = [arn for arn in rendered if isinstance(arn, str)]
        if not found:
            raise UnmappedOperationError(operation)
        return found

    @staticmethod
    def _service_context(
        service: Mapping[str, Any], spec: Mapping[str, Any], operation: str, env: _Env
    ) -> dict[str, ContextValue]:
        context: dict[str, ContextValue] = {}
        templates = {**service.get("context", {}), **spec.get("context", {})}
        for key, template in templates.items():
            value = render(template, env)
            if value is not None:
                context[key] = value
        for key_prefix, member in service.get("context_maps", {}).items():
            mapping = env.param(member)
            if isinstance(mapping, Mapping) and mapping:
                for name, value in mapping.items():
                    context[f"{key_prefix}:{name}"] = str(value)
                context[f"{key_prefix}Keys"] = [str(name) for name in mapping]
        for key_prefix, tag_list in service.get("context_tag_lists", {}).items():
            if operation not in tag_list.get("only_for", (operation,)):
                continue
            placeholder = _PLACEHOLDER.fullmatch(tag_list["tags"])
            assert placeholder is not None, f"{key_prefix}: tags must be one placeholder"
            given = _lookup(placeholder[1], placeholder[2], env) or ()
            tags = [t for t in given if isinstance(t, Mapping) and "Key" in t]
            for tag in tags:
                context[f"{key_prefix}/{tag['Key']}"] = str(tag.get("Value", ""))
            if tags:
                context[tag_list["keys"]] = [str(tag["Key"]) for tag in tags]
        return context

    def _existing_object_tags(
        self, service: Mapping[str, Any], operation: str, env: _Env
    ) -> dict[str, ContextValue]:
        """``<prefix>/<key>`` for each tag of the object the request names, where the table
        says the operation gets them."""
        existing = service.get("existing_object_tags")
        key = env.param("Key")
        if not existing or operation in existing["not_for"] or key is None:
            return {}
        version = env.param("VersionId")
        tags = self._state.object_tags(
            str(env.param("Bucket")), str(key), None if version is None else str(version)
        )
        return {f"{existing['prefix']}/{name}": value for name, value in (tags or {}).items()}

    def _implied_kms_call(
        self,
        implied: Mapping[str, str],
        call: OperationCall,
        credential: Credential,
        facts: RequestFacts,
        now: datetime.datetime,
    ) -> AuthzCall | None:
        params = call.params
        bucket, key = str(params.get("Bucket", "")), str(params.get("Key", ""))
        source = implied["key"]
        if source == "copy_source_object":
            copy_source = str(params.get("CopySource", ""))
            path, _, query = copy_source.partition("?")
            bucket, _, key = unquote(path).lstrip("/").partition("/")
            version = dict(p.partition("=")[::2] for p in query.split("&") if p).get("versionId")
            key_ref = self._state.object_kms_key(bucket, key, version)
        elif source == "object":
            key_ref = self._state.object_kms_key(bucket, key, params.get("VersionId"))
        elif source == "multipart_upload":
            key_ref = self._state.multipart_upload_kms_key(
                bucket, key, str(params.get("UploadId", ""))
            )
        elif source == "request_or_bucket_default":
            encryption = params.get("ServerSideEncryption")
            if encryption in _KMS_SSE:
                key_ref = params.get("SSEKMSKeyId") or _S3_MANAGED_KEY
            elif encryption is None:
                key_ref = self._state.bucket_default_kms_key(bucket)
            else:
                key_ref = None
        else:
            raise ValueError(f"unknown implied KMS key source {source!r}")
        if key_ref is None:
            return None
        env = _Env(
            params={},
            partition=credential.arn.split(":")[1],
            region=call.region,
            caller_account=credential.account_id,
            auth_type=facts.auth_type,
            via_service=_S3_PRINCIPAL,
            state=self._state,
        )
        key_arn = _kms_key(key_ref, env)
        assert key_arn is not None
        object_arn = f"arn:{env.partition}:s3:::{bucket}/{key}"
        context = _principal_context(
            credential, RequestFacts(secure_transport=True), call.region, now
        )
        context.update(
            {
                "aws:ViaAWSService": "true",
                "kms:ViaService": regional_endpoint(_S3_PRINCIPAL, call.region),
                "kms:CallerAccount": credential.account_id,
                "kms:EncryptionContext:aws:s3:arn": object_arn,
                "kms:EncryptionContextKeys": ["aws:s3:arn"],
            }
        )
        return AuthzCall(f"kms:{implied['action']}", key_arn, context, on_behalf_of=_S3_PRINCIPAL)
