"""DESIGN.md section 7's rules of evidence, applied to one cell.

- An outcome that differs from the allow-list fails, naming the statements that decided it.
- A refusal counts only next to its control: the same request, differing only in the property
  under test, is allowed. A refused control makes the cell inconclusive, never passed.
- A refusal counts only if the policy under test decided it (the bucket policy for a put under
  another key, the key policy for key use, the trust policy for assumption), as the target
  reports it; refused by something else, the cell is inconclusive.
- A role of the deployment is also probed from the resource side (an admin-like identity
  attached): allowed then, the resource-side policy grants too much and the cell fails.
- A principal that should exist and does not fails the cell; one the target cannot act as
  leaves the cell unavailable (the suite skips it, with the reason).

Every message says what is wrong, where (principal, request, statements), and how to fix it,
derived from the statements the evidence names, not written per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.deploy.principals import Missing, Unavailable
from harness.evidence import DecisionEvidence, Explanation, PolicyKind
from harness.probes.cells import Cell
from harness.probes.prober import Observation, Prober

PROMISES = {
    1: "every object is SSE-KMS under this key, and requests without TLS are refused",
    2: "only the allow-listed roles can use the key, reach the objects and assume the roles",
}


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"  # fails the check: nothing was proven
    UNAVAILABLE = "unavailable"  # the target cannot make the request: skipped, with the reason


@dataclass(frozen=True)
class Verdict:
    cell: Cell
    status: Status
    message: str
    observed: Observation | None = None

    @property
    def actual(self) -> bool | None:
        return None if self.observed is None else self.observed.allowed


def judge(cell: Cell, prober: Prober) -> Verdict:
    """The cell's verdict under the rules above."""
    try:
        seen = prober.observe(cell.call)
    except Unavailable as unable:
        return Verdict(cell, Status.UNAVAILABLE, str(unable))
    except Missing as missing:
        return Verdict(cell, Status.FAILED, f"{cell.row}: {missing}")
    if seen.allowed != cell.expected:
        return Verdict(cell, Status.FAILED, _mismatch(cell, seen), seen)
    if cell.expected:
        alone = _granted_by_one_side(cell, prober) if cell.both_sides else None
        if alone is not None:
            return Verdict(cell, Status.FAILED, alone, seen)
        return Verdict(cell, Status.PASSED, f"allowed: {seen.explanation.describe()}", seen)
    problem = _control_problem(cell, prober)
    if problem is not None:
        return Verdict(cell, problem[0], problem[1], seen)
    refusal = seen
    if cell.resource_side:
        try:
            refusal = prober.resource_side(cell)
        except Unavailable as unable:
            return Verdict(cell, Status.UNAVAILABLE, f"resource-side probe: {unable}", seen)
        if refusal.allowed:
            return Verdict(cell, Status.FAILED, _resource_side_grant(cell, refusal), seen)
    wrong = _misattributed(cell, refusal)
    if wrong is not None:
        return Verdict(cell, Status.INCONCLUSIVE, wrong, seen)
    if cell.resource_side:
        excess = _identity_excess(cell, prober)
        if excess is not None:
            return Verdict(cell, Status.FAILED, excess, seen)
    return Verdict(cell, Status.PASSED, f"refused: {refusal.explanation.describe()}", seen)


def _granted_by_one_side(cell: Cell, prober: Prober) -> str | None:
    """Two keys for one door: a role of the deployment's allowed request must need its own
    identity policy as well as the resource's policy; granted by the resource policy alone,
    a role whose own policy lost the grant would keep it (computed by the engine)."""
    granted = [d for d in prober.resource_alone(cell.call) if d.allowed]
    if not granted:
        return None
    grants = "; ".join(str(s) for d in granted for s in d.deciding) or "the resource policy"
    actions = ", ".join(d.action for d in granted)
    return (
        f"{_who(cell)}: {cell.call.label}: {actions} is granted by {grants} alone (computed "
        "by the engine on the policies as fetched): the role's own identity policy is not "
        "needed, so no IAM "
        "policy of its account can take the grant back. Fix: name the role's account root "
        "with an exact aws:PrincipalArn condition (delegation) instead of the role or everyone"
    )


def _identity_excess(cell: Cell, prober: Prober) -> str | None:
    """Least privilege, the mirror of the resource side: a role of the deployment's own
    identity policies must not grant what the allow-list refuses it, so that no single
    policy stands alone between it and the key, an object or a role (computed by the engine
    on its policies as fetched)."""
    decisions = prober.identity_side(cell.call)
    if not decisions or not all(d.allowed for d in decisions):
        return None
    grants = [s for d in decisions for s in d.deciding if s.kind is PolicyKind.IDENTITY]
    named = "; ".join(map(str, grants)) or "its identity policies"
    return (
        f"{_who(cell)}: {cell.call.label} is granted by the role's own identity policy "
        f"({named}; computed by the engine on the policies as fetched), although the allow-list "
        f"refuses it: only the {_kinds(cell.refused_by)} stands in the way. Fix: narrow {named} "
        "to what the allow-list lets the role do"
    )


def _who(cell: Cell) -> str:
    return f"{cell.row} ({cell.call.principal})"


def _control_problem(cell: Cell, prober: Prober) -> tuple[Status, str] | None:
    if cell.control is None:
        return Status.INCONCLUSIVE, (
            f"inconclusive: {_who(cell)}: {cell.call.label} was refused, but no request "
            f"differing only in {cell.differs_in} is allowed by the allow-list, so the refusal "
            "proves nothing about the policy under test"
        )
    try:
        control = prober.observe(cell.control)
    except Unavailable as unable:
        return Status.UNAVAILABLE, f"the control ({cell.control.label}) cannot be made: {unable}"
    except Missing as missing:
        return Status.FAILED, f"the control of {cell.call.label}: {missing}"
    if control.allowed:
        return None
    return Status.INCONCLUSIVE, (
        f"inconclusive: {_who(cell)}: {cell.call.label} was refused, but so was its control "
        f"({cell.control.label} as {cell.control.principal}, differing only in "
        f"{cell.differs_in}): {control.attempt.detail} [{control.explanation.describe()}]. A "
        "refusal counts only next to an allowed control; fix what refuses the control first"
    )


def _misattributed(cell: Cell, seen: Observation) -> str | None:
    """Why a refusal does not count as evidence for the policy under test, if it does not."""
    if not cell.refused_by:
        return None
    refusal = seen.explanation.refusal
    if refusal is None:
        return (
            f"inconclusive: {_who(cell)}: {cell.call.label} was refused "
            f"({seen.attempt.detail}), but {seen.explanation.describe()}"
        )
    if refusal.decided_by & cell.refused_by:
        return None
    return (
        f"inconclusive: {_who(cell)}: {cell.call.label} ({seen.identity.value}) was refused by "
        f"{_kinds(refusal.decided_by)}, not by the {_kinds(cell.refused_by)} under test: "
        f"{seen.explanation.describe()}. Without that refusal nothing here shows the "
        f"{_kinds(cell.refused_by)} refuses it"
    )


def _kinds(kinds: frozenset[PolicyKind]) -> str:
    return " or ".join(sorted(f"{kind.value} policy" for kind in kinds)) or "no policy"


def _mismatch(cell: Cell, seen: Observation) -> str:
    got = "allowed" if seen.allowed else f"refused ({seen.attempt.detail})"
    wanted = "allows" if cell.expected else "denies"
    return (
        f"{_who(cell)}: {cell.call.label} was {got}; the allow-list {wanted} it, so promise "
        f"{cell.promise} ({PROMISES.get(cell.promise, '')}) does not hold. Evidence: "
        f"{seen.explanation.describe()}. Fix: {fix(cell, seen.explanation)}"
    )


def _resource_side_grant(cell: Cell, seen: Observation) -> str:
    return (
        f"{_who(cell)}: {cell.call.label} is refused today only by the role's own identity "
        f"policy: {seen.identity.value} it was allowed ({seen.explanation.describe()}). Anyone "
        "who may edit the role's policies can open it in one call. Fix: "
        f"{fix(cell, seen.explanation)}"
    )


def fix(cell: Cell, explanation: Explanation) -> str:
    """How to make the outcome what the allow-list says, from the statements that decided."""
    decisions = explanation.decisions
    if not decisions:
        return "look up the request in the target's logs (no decision was reported)"
    if not cell.expected:
        grants = [s for d in decisions if d.allowed for s in d.deciding]
        resource_side = [s for s in grants if s.kind in cell.refused_by]
        named = "; ".join(map(str, resource_side or grants))
        if resource_side:
            return f"narrow {named} so that it does not grant this to {cell.call.principal}"
        if cell.refused_by:
            return (
                f"the {_kinds(cell.refused_by)} must refuse this request (it differs from an "
                f"allowed one in {cell.differs_in}); only {named or 'identity policies'} "
                "decided it"
            )
        return f"remove the grant in {named}"
    refusal = explanation.refusal or decisions[-1]
    return _grant_fix(refusal, cell.call.principal)


def _grant_fix(refusal: DecisionEvidence, principal: str) -> str:
    denies = [s for s in refusal.deciding if s.effect == "Deny"]
    if denies:
        return f"narrow {'; '.join(map(str, denies))} so that it does not cover this request"
    where = " and ".join(f"the {kind.value} policy" for kind in refusal.lacking) or "a policy"
    return f"grant {refusal.action} on {refusal.resource} to {principal} in {where}"
