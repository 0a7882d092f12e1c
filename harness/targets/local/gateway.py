"""The enforcement gateway: WSGI middleware that makes moto behave like AWS on authorization.

Per request: verify SigV4 against the gateway's own credentials, identify the operation from
botocore's models, derive every authorization check AWS would make (see ``authorization``),
decide each with the policy engine on the policies held in moto's state, log each decision,
and only then forward to moto (as the caller's account) or to the CloudFormation engine. STS
is answered here: sessions come from the gateway's store, after the trust policy allowed them.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import io
import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

from harness.gateway.authz_map import (
    AuthorizationMapper,
    AuthzCall,
    RequestFacts,
    UnmappedOperationError,
)
from harness.gateway.credentials import Credential, CredentialStore, PrincipalType
from harness.gateway.errors import (
    ErrorKind,
    GatewayError,
    WireProtocol,
    render_access_denied,
    render_error,
    render_service_error,
)
from harness.gateway.operations import OperationCall, OperationMapper, UnknownOperationError
from harness.gateway.request_ids import new_request_id, with_request_id
from harness.gateway.sigv4 import SignatureInfo, parse_signature, verify
from harness.policy import Decision, Policy, PolicyError, Principal, Request, evaluate
from harness.policy.evaluate import RESOURCE_POLICY_NAME
from harness.policy.grants import with_grants
from harness.targets.local import (
    moto_organizations,
    moto_state,
    object_ownership,
    public_access,
    sts,
)
from harness.targets.local.authorization import Check, check_for, trust_check
from harness.targets.local.decision_log import DecisionLog, LoggedDecision

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ServedCall:
    """An authorized request handed to a service the local target serves itself."""

    call: OperationCall
    credential: Credential
    protocol: WireProtocol
    method: str
    moto_account: str


# A service (or some operations of one) served by the local target instead of moto: the
# CloudFormation engine, the runtimes' SageMaker/Step Functions/Lambda hooks, the CodePipeline
# runner. It returns the app that answers, or None to let moto answer from its state.
LocalService = Callable[[ServedCall], WsgiApp | None]


def whole_service(app: WsgiApp) -> LocalService:
    """A local service that answers every operation of its service with ``app``."""
    return lambda _served: app


_UNSIGNED_PROTOCOL = WireProtocol("rest-xml")


@dataclasses.dataclass(frozen=True)
class Exchange:
    """One request as its decisions are logged: the id its answer carries, the API call
    (``s3:PutObject``, or ``unknown``) and whether it came over TLS."""

    request_id: str
    operation: str
    secure: bool
    unidentified: str = ""  # why no operation matched, when none did

    @property
    def transport(self) -> str:
        return "https" if self.secure else "http"


_MAX_SESSION = datetime.timedelta(hours=12)
_MIN_SESSION = datetime.timedelta(minutes=15)
# A role session assuming a role (role chaining) may ask for one hour at most: STS API
# Reference, AssumeRole, DurationSeconds
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
_CHAINED_SECONDS = 3600


def principal_of(credential: Credential) -> Principal:
    """The policy engine's principal for a credential; a role session keeps its role's path
    in ``aws:PrincipalArn``, as AWS does."""
    principal = Principal.from_arn(credential.arn)
    if principal.role_arn is not None and principal.role_arn != credential.principal_arn:
        principal = dataclasses.replace(principal, role_arn=credential.principal_arn)
    return principal


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    return stream.read() if environ.get("wsgi.input_terminated") else b""


@functools.cache
def _shared_mapper() -> OperationMapper:
    """One mapper for every target in the process: botocore's models are the same for all, and
    a mapper loads and compiles a service's model on its first request (for a new target's
    first requests, three quarters of their cost)."""
    return OperationMapper()


class Gateway:
    """The middleware. ``backend`` is moto's WSGI app; ``services`` (by botocore service name)
    are answered by the local target itself after the same authorization."""

    def __init__(
        self,
        store: CredentialStore,
        backend: WsgiApp,
        services: dict[str, LocalService],
        log: DecisionLog,
        mapper: OperationMapper | None = None,
    ) -> None:
        self.store = store
        self.backend = backend
        self.services = services
        self.log = log
        self.mapper = mapper or _shared_mapper()
        self.authorization = AuthorizationMapper(moto_organizations.OrganizationsResourceState())

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = _read_body(environ)
        signature, call, protocol, unidentified = self._identify(environ, body)
        operation = f"{call.signing_name}:{call.operation}" if call else "unknown"
        secure = environ.get("wsgi.url_scheme") == "https"
        exchange = Exchange(new_request_id(), operation, secure, unidentified)
        method = environ.get("REQUEST_METHOD", "GET")

        def answer(env: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
            return self._respond(env, body, signature, call, protocol, exchange)(env, start)

        app = _failing_as_aws(answer, protocol, exchange, method)
        return with_request_id(app, protocol.name, exchange.request_id)(environ, start_response)

    def _respond(
        self,
        environ: dict[str, Any],
        body: bytes,
        signature: SignatureInfo | None,
        call: OperationCall | None,
        protocol: WireProtocol,
        exchange: Exchange,
    ) -> WsgiApp:
        """The app that answers this request: a refusal, STS's answer, or the service."""
        method = environ.get("REQUEST_METHOD", "GET")
        request_id = exchange.request_id
        try:
            verified = verify(environ, body, self.store, signature=signature)
        except GatewayError as error:
            reason = f"Refused before authorization ({error.kind.value}): {error}"
            self._log_refusal("unauthenticated", reason, exchange)
            return render_error(
                protocol, error.kind, error.message, request_id=request_id, method=method
            )
        credential = verified.credential
        if call is None:
            reason = (
                f"the local target cannot map this request to an AWS operation "
                f"({exchange.unidentified}); refused"
            )
            return self._refuse_unmapped(credential.arn, reason, exchange, protocol, method)
        facts = RequestFacts(
            secure_transport=exchange.secure,
            source_ip=environ.get("REMOTE_ADDR"),
            auth_type=verified.signature.auth_type,
        )
        try:
            authz_calls = self.authorization.calls(call, credential, facts)
        except UnmappedOperationError as unmapped:
            return self._refuse_unmapped(credential.arn, str(unmapped), exchange, protocol, method)
        checks = [
            check_for(authz, credential.account_id, call.region, call.params)
            for authz in authz_calls
        ]
        principal = principal_of(credential)
        for check in checks:
            decision = self.decide(principal, credential, check, exchange)
            if not decision:
                return render_access_denied(
                    protocol,
                    caller_arn=credential.arn,
                    action=check.call.action,
                    resource=check.call.resource,
                    reason=decision.reason,
                    request_id=request_id,
                    method=method,
                )
        for check in checks:
            state_error = check.key_state_error()
            if state_error is not None:
                code, message = state_error
                return render_service_error(
                    protocol, code, message, 400, request_id=request_id, method=method
                )
        blocked = public_access.blocked(call, credential.account_id)
        if blocked is not None and checks:
            refused = checks[0].call
            self.log.record(
                LoggedDecision.of(
                    blocked,
                    request_id=request_id,
                    principal=principal.arn,
                    action=refused.action,
                    resource=refused.resource,
                    operation=exchange.operation,
                    transport=exchange.transport,
                )
            )
            return render_access_denied(
                protocol,
                caller_arn=credential.arn,
                action=refused.action,
                resource=refused.resource,
                reason=blocked.reason,
                request_id=request_id,
                method=method,
            )
        if object_ownership.acl_refused(call):
            return render_service_error(
                protocol,
                "AccessControlListNotSupported",
                object_ownership.MESSAGE,
                400,
                request_id=request_id,
                method=method,
            )
        if call.signing_name == "sts":
            return self._sts(call, credential, protocol, method, request_id)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        moto_account = _moto_account(checks, credential)
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = moto_account
        service = self.services.get(call.service_name)
        if service is not None:
            served = service(ServedCall(call, credential, protocol, method, moto_account))
            if served is not None:
                return served
        return self._moto

    def _refuse_unmapped(
        self,
        caller_arn: str,
        reason: str,
        exchange: Exchange,
        protocol: WireProtocol,
        method: str,
    ) -> WsgiApp:
        """Refuse a request whose action or resource the local target cannot work out."""
        self._log_refusal(caller_arn, reason, exchange)
        return render_access_denied(
            protocol,
            caller_arn=caller_arn,
            action=exchange.operation,
            resource=None,
            reason=reason,
            request_id=exchange.request_id,
            method=method,
        )

    def _log_refusal(self, principal: str, reason: str, exchange: Exchange) -> None:
        """Log a request refused before any policy was consulted."""
        self.log.record(
            LoggedDecision(
                request_id=exchange.request_id,
                principal=principal,
                action=exchange.operation,
                resource="*",
                allowed=False,
                reason=reason,
                operation=exchange.operation,
                transport=exchange.transport,
            )
        )

    def _identify(
        self, environ: dict[str, Any], body: bytes
    ) -> tuple[SignatureInfo | None, OperationCall | None, WireProtocol, str]:
        """The request's signature fields (parsed once, for ``verify`` too), the operation
        (None if no model matches, with why) and the protocol to answer in. An unsigned or
        malformed request is left to ``verify``, which reports it."""
        try:
            info = parse_signature(environ)
        except GatewayError:
            return None, None, _UNSIGNED_PROTOCOL, ""
        if info is None:
            return None, None, _UNSIGNED_PROTOCOL, ""
        try:
            call = self.mapper.identify(environ, body, info.service, info.region)
        except UnknownOperationError as unknown:
            return info, None, unknown.protocol, str(unknown)
        return info, call, call.protocol, ""

    def _moto(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        return list(self.backend(environ, start_response))

    def decide(
        self, principal: Principal, credential: Credential | None, check: Check, exchange: Exchange
    ) -> Decision:
        """Evaluate one check as ``principal`` and append it to the decision log."""
        call = check.call
        try:
            scps, rcps, org_keys = _organization_inputs(principal, check)
            request = Request(principal, call.action, call.resource, {**org_keys, **call.context})
            identity, boundary = _identity_policies(credential)
            decision = evaluate(
                request,
                identity=identity,
                resource=(
                    Policy.coerce(check.resource_policy, _resource_policy_name(check))
                    if check.resource_policy
                    else None
                ),
                resource_account=check.resource_account,
                resource_kind=check.resource_kind,
                boundary=boundary,
                scps=scps,
                rcps=rcps,
                session=[
                    Policy.coerce(document, name)
                    for name, document in (credential.session_policies if credential else ())
                ],
            )
            if check.grants:
                decision = with_grants(decision, request, check.grants, check.creating)
            decision = public_access.restricted(decision, principal, check)
        except PolicyError as error:
            decision = Decision(False, f"Denied: a policy that applies cannot be read: {error}")
        caller = principal.arn
        via = call.on_behalf_of or (credential.via_service if credential else None)
        if via:
            caller = f"{caller} (via {via})"
        self.log.record(
            LoggedDecision.of(
                decision,
                request_id=exchange.request_id,
                principal=caller,
                action=call.action,
                resource=call.resource,
                operation=exchange.operation,
                transport=exchange.transport,
            )
        )
        return decision

    def assume_role_as_service(
        self, service: str, role_arn: str, session_name: str
    ) -> tuple[Decision, Credential | None]:
        """Decide ``sts:AssumeRole`` of ``role_arn`` by AWS service principal ``service`` (as
        CodePipeline or SageMaker assume their roles, with ``aws:SourceAccount`` set to the
        role's account); on allow, issue the session. The call is the service's own, so it
        gets a request id of its own."""
        account = role_arn.split(":")[4]
        context: dict[str, str | list[str]] = {
            "aws:SecureTransport": "true",
            "aws:SourceAccount": account,
            "aws:PrincipalServiceName": service,
            "sts:RoleSessionName": session_name,
        }
        check = trust_check(AuthzCall("sts:AssumeRole", role_arn, context))
        exchange = Exchange(new_request_id(), "sts:AssumeRole", secure=True)
        decision = self.decide(Principal.service(service), None, check, exchange)
        if not decision:
            return decision, None
        return decision, self.store.issue_role_session(role_arn, session_name)

    def _sts(
        self,
        call: OperationCall,
        credential: Credential,
        protocol: WireProtocol,
        method: str,
        request_id: str,
    ) -> WsgiApp:
        """Answer an STS call the checks allowed: identity, or a new role session."""
        if call.operation == "GetCallerIdentity":
            role_id = _role_id(credential.principal_arn)
            return _xml(sts.caller_identity(credential, role_id, request_id))
        if call.operation != "AssumeRole":
            return render_access_denied(
                protocol,
                caller_arn=credential.arn,
                action=f"sts:{call.operation}",
                resource=None,
                reason="the local target's STS serves only AssumeRole and GetCallerIdentity",
                request_id=request_id,
                method=method,
            )
        role_arn = call.params["RoleArn"]
        seconds = int(call.params.get("DurationSeconds") or 3600)
        if credential.principal_type is PrincipalType.ASSUMED_ROLE and seconds > _CHAINED_SECONDS:
            return render_service_error(
                protocol,
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining.",
                400,
                request_id=request_id,
                method=method,
            )
        role = moto_state.role_policies(role_arn)
        try:
            if role is not None and seconds > role.max_session_seconds:
                raise ValueError(
                    "The requested DurationSeconds exceeds the MaxSessionDuration set for "
                    "this role."
                )
            shape = _session_shape(call.params, credential, role)
        except ValueError as invalid:
            return render_service_error(
                protocol, "ValidationError", str(invalid), 400, request_id=request_id, method=method
            )
        duration = min(max(datetime.timedelta(seconds=seconds), _MIN_SESSION), _MAX_SESSION)
        session = self.store.issue_role_session(
            role_arn, call.params["RoleSessionName"], duration=duration, **shape
        )
        return _xml(sts.assumed_role(session, _role_id(role_arn), request_id))


def _failing_as_aws(
    app: WsgiApp, protocol: WireProtocol, exchange: Exchange, method: str
) -> WsgiApp:
    """``app``, answering an exception it raises (moto's NotImplementedError, a bug of the
    gateway or of a local service) as AWS answers an internal failure, so even that answer
    has the request id."""

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            return app(environ, start_response)
        except Exception as error:  # the server boundary: answer, never drop the connection
            _LOG.exception("%s failed (request %s)", exchange.operation, exchange.request_id)
            failure = render_error(
                protocol,
                ErrorKind.INTERNAL_FAILURE,
                f"{type(error).__name__}: {error}",
                request_id=exchange.request_id,
                method=method,
            )
            return failure(
                environ, lambda status, headers: start_response(status, headers, sys.exc_info())
            )

    return guarded


def _session_shape(
    params: dict[str, Any], caller: Credential, role: moto_state.RolePolicies | None
) -> dict[str, Any]:
    """What AssumeRole makes the new session carry besides its role: principal tags (the
    role's, overridden by the session tags passed, and the caller's transitive tags, which
    persist through role chaining), session policies, and the source identity (set once, kept
    through chaining). ValueError for a managed session policy that does not exist.

    IAM guide, "Passing session tags in AWS STS"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html); session policies
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session);
    source identity (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html).
    """
    passed = {str(t["Key"]): str(t.get("Value", "")) for t in params.get("Tags") or ()}
    inherited = {k: v for k, v in caller.tags if k in caller.transitive_tag_keys}
    tags = {**dict(role.tags if role else ()), **passed, **inherited}
    transitive = caller.transitive_tag_keys | {
        str(k) for k in params.get("TransitiveTagKeys") or ()
    }
    policies: list[tuple[str, str]] = []
    if params.get("Policy"):
        policies.append(("inline session policy", str(params["Policy"])))
    for entry in params.get("PolicyArns") or ():
        arn = str(entry.get("arn", ""))
        document = moto_state.managed_policy_document(arn, str(params["RoleArn"]).split(":")[4])
        if document is None:
            raise ValueError(f"The session policy {arn} does not exist or is not attachable.")
        policies.append((f"session policy {arn}", document))
    return {
        "tags": tuple(tags.items()),
        "transitive_tag_keys": frozenset(transitive),
        "session_policies": tuple(policies),
        "source_identity": caller.source_identity or params.get("SourceIdentity"),
    }


def _role_id(arn: str) -> str | None:
    if ":role/" not in arn:
        return None
    role = moto_state.role_policies(arn)
    return role.role_id if role is not None else None


def _identity_policies(credential: Credential | None) -> tuple[list[Policy], Policy | None]:
    """A role session's inline and managed policies and boundary; none for a root or a
    service principal (a root needs none in its own account)."""
    if credential is None or credential.principal_type is not PrincipalType.ASSUMED_ROLE:
        return [], None
    role = moto_state.role_policies(credential.principal_arn)
    if role is None:
        return [], None
    role_name = credential.principal_arn.rsplit("/", 1)[1]
    identity = [
        Policy.coerce(document, f"policy {name!r} of role {role_name}")
        for name, document in role.identity
    ]
    boundary = role.boundary and Policy.coerce(role.boundary, f"boundary of role {role_name}")
    return identity, boundary or None


def _organization_inputs(
    principal: Principal, check: Check
) -> tuple[list[Policy], list[Policy], dict[str, str | list[str]]]:
    """The SCP levels over the caller, the RCP levels over the resource, and the
    ``aws:PrincipalOrg*``/``aws:ResourceOrg*`` keys, from the organizations they belong to."""
    keys: dict[str, str | list[str]] = {}
    scps: list[Policy] = []
    caller_org = (
        moto_organizations.organization_of(principal.account) if principal.account else None
    )
    if caller_org is not None:
        scps = caller_org.scps_for(principal)
        keys.update(caller_org.principal_context(principal))
    rcps: list[Policy] = []
    resource_org = moto_organizations.organization_of(check.resource_account)
    if resource_org is not None:
        managed = check.call.resource.endswith(":" + moto_state.AWS_MANAGED_S3_KEY)
        rcps = resource_org.rcps_for(check.call.action, check.resource_account, managed)
        keys.update(resource_org.resource_context(check.resource_account))
    return scps, rcps, keys


def _resource_policy_name(check: Check) -> str:
    """Named after what holds the policy: a bucket's, not the object's, so that one name and
    text stay one compiled policy for every object (each object's name compiled it anew)."""
    holder = check.call.resource
    if holder.startswith("arn:aws:s3:::"):
        holder = holder.split("/", 1)[0]
    return f"{RESOURCE_POLICY_NAME[check.resource_kind]} of {holder}"


def _moto_account(checks: list[Check], credential: Credential) -> str:
    """The account moto should act in: the caller's, except for a KMS call on another
    account's key or a Lambda call on another account's function (moto looks keys and
    functions up only in the account it acts in)."""
    for check in checks:
        resource = check.call.resource
        on_key = check.resource_kind == "kms-key" or ":key/" in resource
        on_function = resource.startswith("arn:aws:lambda:") and ":function:" in resource
        if (
            (on_key and resource.startswith("arn:aws:kms:")) or on_function
        ) and not check.call.on_behalf_of:
            return check.resource_account
    return credential.account_id


def _xml(payload: bytes) -> WsgiApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(
            "200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(payload)))]
        )
        return [payload]

    return app
