"""The SMT model's decision of one concrete request: what the differential test compares
with :func:`harness.policy.evaluate`, argument for argument."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import z3

from harness.policy.evaluate import PolicyInput, Request, ResourceKind, check_principal_elements
from harness.policy.policy import Policy, policies
from harness.proof.decision import Guardrails, Held, Identity, Query, allowed
from harness.proof.errors import ModelMismatch
from harness.proof.logic import term
from harness.proof.principals import KINDS, SymbolicPrincipal
from harness.proof.request import SymbolicRequest
from harness.proof.text import literal


def query_of(
    identity: Iterable[PolicyInput] = (),
    resource: PolicyInput | None = None,
    resource_account: str = "",
    resource_kind: ResourceKind = "generic",
    boundary: PolicyInput | None = None,
    scps: Sequence[PolicyInput] = (),
    session: Sequence[PolicyInput] = (),
    rcps: Sequence[PolicyInput] = (),
) -> Query:
    """The query ``evaluate`` would decide with these arguments (validated alike)."""
    identity_policies = policies(identity, "identity policy")
    scp_policies = policies(scps, "SCP")
    session_policies = policies(session, "session policy")
    rcp_policies = policies(rcps, "RCP")
    resource_policy = None if resource is None else Policy.coerce(resource, "resource policy")
    boundary_policy = None if boundary is None else Policy.coerce(boundary, "boundary")
    not_resource_based = (*identity_policies, *scp_policies, *session_policies)
    check_principal_elements(not_resource_based, resource_based=False)
    check_principal_elements(rcp_policies, resource_based=True)
    if boundary_policy is not None:
        check_principal_elements((boundary_policy,), resource_based=False)
    if resource_policy is not None:
        check_principal_elements((resource_policy,), resource_based=True)
    return Query(
        Identity(Held(identity_policies, boundary_policy, session_policies)),
        resource_policy,
        resource_account,
        resource_kind,
        Guardrails(scp_policies),
        rcp_policies,
    )


def smt_allows(
    request: Request, query: Query, symbolic_action: bool = False, symbolic_resource: bool = False
) -> bool:
    """Whether the model allows ``request``; with ``symbolic_*``, the action or resource is
    a solver variable pinned to the request's (exercising the regex encoding of patterns)."""
    principal = SymbolicPrincipal.fresh(KINDS)
    action = z3.String("action") if symbolic_action else request.action
    resource = z3.String("resource") if symbolic_resource else request.resource
    sizes = {k: len(v) if isinstance(v, tuple) else 1 for k, v in request.context}
    symbolic = SymbolicRequest.build(principal, action, resource, query.statements(), sizes=sizes)
    decision = allowed(query, symbolic)
    solver = z3.Solver()
    solver.add(symbolic.domain(), principal.pin(request.principal))
    solver.add(symbolic.context.pin_request(request))
    if symbolic_action:
        solver.add(action == literal(request.action))
    if symbolic_resource:
        solver.add(resource == literal(request.resource))
    outcomes = []
    for want in (True, False):
        solver.push()
        solver.add(term(decision) == want)
        outcomes.append(solver.check())
        solver.pop()
    if outcomes == [z3.sat, z3.unsat]:
        return True
    if outcomes == [z3.unsat, z3.sat]:
        return False
    raise ModelMismatch(f"the model does not decide {request} ({outcomes})")
