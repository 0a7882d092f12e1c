"""The rules of evidence (DESIGN.md section 7) on hand-made observations: a refusal passes only
next to an allowed control and when the policy under test refused; anything else fails or is
inconclusive, never passed."""

from __future__ import annotations

from typing import Any

import pytest

from harness.deploy.principals import Missing, Unavailable
from harness.evidence import (
    DecisionEvidence,
    Explanation,
    Intent,
    PolicyKind,
    Source,
    StatementCited,
)
from harness.probes.calls import Attempt, Call
from harness.probes.cells import Cell
from harness.probes.judge import Status, judge
from harness.probes.prober import Identity, Observation

KEY = "arn:aws:kms:us-east-1:111111111111:key/k"
CANARY = "arn:aws:iam::222222222222:role/canary"
PIPELINE = "arn:aws:iam::111111111111:role/pipeline"
KEY_POLICY_DENY = StatementCited("key policy", PolicyKind.KEY, "Deny", "Deny")
IDENTITY_ALLOW = StatementCited("policy 'p' of role r", PolicyKind.IDENTITY, "Use", "Allow")
KEY_ALLOW = StatementCited("key policy", PolicyKind.KEY, "KeyUse", "Allow")


def _call(principal: str) -> Call:
    return Call(
        f"kms:Decrypt as {principal}",
        principal,
        "kms",
        lambda _: None,
        Intent(principal, "kms:Decrypt", KEY),
    )


def _seen(
    call: Call, allowed: bool, *, deciding=(), lacking=(), identity=Identity.AS_DEPLOYED
) -> Observation:
    decision = DecisionEvidence("kms:Decrypt", KEY, allowed, "", deciding, deciding, lacking)
    return Observation(
        call,
        identity,
        Attempt(allowed, "" if allowed else "AccessDenied: no", "req-1"),
        Explanation(Source.DECISION_LOG, "req-1", (decision,)),
    )


class FakeProber:
    """Answers with prepared observations (or raises prepared exceptions)."""

    def __init__(
        self, seen: dict[str, Any], resource_side: Any = None, identity: Any = (), alone: Any = ()
    ) -> None:
        self.seen = seen
        self.side = resource_side
        self.identity = identity
        self.alone = alone

    def resource_alone(self, call: Call) -> Any:
        return self.alone

    def identity_side(self, call: Call) -> Any:
        return self.identity

    def observe(self, call: Call) -> Observation:
        found = self.seen[call.principal]
        if isinstance(found, Exception):
            raise found
        return found

    def resource_side(self, cell: Cell) -> Observation:
        if isinstance(self.side, Exception):
            raise self.side
        return self.side


def _cell(
    expected: bool = False, resource_side: bool = False, control: bool = True, both: bool = False
) -> Cell:
    return Cell(
        id="canary-Decrypt",
        promise=2,
        group="direct key use",
        row="canary",
        column="Decrypt",
        call=_call(CANARY),
        expected=expected,
        control=_call(PIPELINE) if control else None,
        differs_in="the principal",
        refused_by=frozenset({PolicyKind.KEY}),
        resource_side=resource_side,
        both_sides=both,
    )


def _refused_by_key(call: Call, **kw: Any) -> Observation:
    return _seen(call, False, lacking=(PolicyKind.KEY,), **kw)


def test_refusal_by_the_policy_under_test_next_to_an_allowed_control_passes() -> None:
    cell = _cell()
    prober = FakeProber(
        {
            CANARY: _refused_by_key(cell.call),
            PIPELINE: _seen(cell.control, True, deciding=(KEY_ALLOW,)),
        }
    )
    verdict = judge(cell, prober)  # type: ignore[arg-type]
    assert verdict.status is Status.PASSED, verdict.message
    assert "no key policy allowed it" in verdict.message


def test_refused_control_makes_the_refusal_inconclusive() -> None:
    cell = _cell()
    prober = FakeProber(
        {CANARY: _refused_by_key(cell.call), PIPELINE: _refused_by_key(cell.control)}
    )
    verdict = judge(cell, prober)  # type: ignore[arg-type]
    assert verdict.status is Status.INCONCLUSIVE
    assert "so was its control" in verdict.message and PIPELINE in verdict.message


def test_no_control_at_all_is_inconclusive() -> None:
    cell = _cell(control=False)
    verdict = judge(cell, FakeProber({CANARY: _refused_by_key(cell.call)}))  # type: ignore[arg-type]
    assert verdict.status is Status.INCONCLUSIVE
    assert "differing only in the principal" in verdict.message


def test_refusal_by_another_policy_is_inconclusive() -> None:
    cell = _cell()
    refused_by_identity = _seen(cell.call, False, lacking=(PolicyKind.IDENTITY,))
    prober = FakeProber({CANARY: refused_by_identity, PIPELINE: _seen(cell.control, True)})
    verdict = judge(cell, prober)  # type: ignore[arg-type]
    assert verdict.status is Status.INCONCLUSIVE
    assert "refused by identity policy, not by the key policy under test" in verdict.message


def test_refusal_without_a_recorded_decision_is_inconclusive() -> None:
    cell = _cell()
    bare = Observation(
        cell.call,
        Identity.AS_DEPLOYED,
        Attempt(False, "AccessDenied", "r"),
        Explanation(Source.DECISION_LOG, "r", ()),
    )
    verdict = judge(cell, FakeProber({CANARY: bare, PIPELINE: _seen(cell.control, True)}))  # type: ignore[arg-type]
    assert verdict.status is Status.INCONCLUSIVE
    assert "no decision recorded" in verdict.message


def test_unexpected_allow_fails_naming_the_statements_and_the_fix() -> None:
    cell = _cell()
    allowed = _seen(cell.call, True, deciding=(KEY_ALLOW, IDENTITY_ALLOW))
    verdict = judge(cell, FakeProber({CANARY: allowed}))  # type: ignore[arg-type]
    assert verdict.status is Status.FAILED
    assert "Allow statement 'KeyUse' of key policy" in verdict.message
    fix = "Fix: narrow Allow statement 'KeyUse' of key policy so that it does not grant this"
    assert f"{fix} to {CANARY}" in verdict.message


def test_unexpected_refusal_fails_with_the_grant_to_add() -> None:
    cell = _cell(expected=True)
    verdict = judge(cell, FakeProber({CANARY: _refused_by_key(cell.call)}))  # type: ignore[arg-type]
    assert verdict.status is Status.FAILED
    assert f"Fix: grant kms:Decrypt on {KEY} to {CANARY} in the key policy" in verdict.message


def test_resource_side_grant_hidden_by_the_identity_policy_fails() -> None:
    cell = _cell(resource_side=True)
    side = _seen(cell.call, True, deciding=(KEY_ALLOW,), identity=Identity.ADMIN_LIKE)
    prober = FakeProber(
        {
            CANARY: _seen(cell.call, False, lacking=(PolicyKind.IDENTITY,)),
            PIPELINE: _seen(cell.control, True),
        },
        resource_side=side,
    )
    verdict = judge(cell, prober)  # type: ignore[arg-type]
    assert verdict.status is Status.FAILED
    assert "refused today only by the role's own identity policy" in verdict.message


def test_resource_side_refusal_by_the_key_policy_passes() -> None:
    cell = _cell(resource_side=True)
    side = _refused_by_key(cell.call, identity=Identity.ADMIN_LIKE)
    prober = FakeProber(
        {
            CANARY: _seen(cell.call, False, lacking=(PolicyKind.IDENTITY,)),
            PIPELINE: _seen(cell.control, True),
        },
        resource_side=side,
    )
    assert judge(cell, prober).status is Status.PASSED  # type: ignore[arg-type]


def test_identity_policy_granting_what_the_allow_list_refuses_fails() -> None:
    """Least privilege: the key policy refuses, but the role's own policy would allow."""
    cell = _cell(resource_side=True)
    side = _refused_by_key(cell.call, identity=Identity.ADMIN_LIKE)
    granted = (
        DecisionEvidence("kms:Decrypt", KEY, True, "", (IDENTITY_ALLOW,), (IDENTITY_ALLOW,)),
    )
    prober = FakeProber(
        {
            CANARY: _seen(cell.call, False, lacking=(PolicyKind.KEY,)),
            PIPELINE: _seen(cell.control, True),
        },
        resource_side=side,
        identity=granted,
    )
    verdict = judge(cell, prober)  # type: ignore[arg-type]
    assert verdict.status is Status.FAILED
    assert "granted by the role's own identity policy (Allow statement 'Use'" in verdict.message
    assert "only the key policy stands in the way" in verdict.message


def test_an_allow_the_resource_policy_grants_alone_fails() -> None:
    """Two keys for one door: the role's own policy must be needed too."""
    cell = _cell(expected=True, both=True)
    allowed = _seen(cell.call, True, deciding=(KEY_ALLOW, IDENTITY_ALLOW))
    alone = (DecisionEvidence("kms:Decrypt", KEY, True, "", (KEY_ALLOW,), (KEY_ALLOW,)),)
    verdict = judge(cell, FakeProber({CANARY: allowed}, alone=alone))  # type: ignore[arg-type]
    assert verdict.status is Status.FAILED
    assert "granted by Allow statement 'KeyUse' of key policy alone" in verdict.message
    needs_both = FakeProber(
        {CANARY: allowed}, alone=(_refused_by_key(cell.call).explanation.decisions)
    )
    assert judge(cell, needs_both).status is Status.PASSED  # type: ignore[arg-type]


def test_missing_role_fails_naming_it() -> None:
    cell = _cell()
    verdict = judge(cell, FakeProber({CANARY: Missing(f"role {CANARY} does not exist")}))  # type: ignore[arg-type]
    assert verdict.status is Status.FAILED
    assert f"role {CANARY} does not exist" in verdict.message


@pytest.mark.parametrize("where", ["cell", "control"])
def test_what_the_target_cannot_do_is_unavailable(where: str) -> None:
    cell = _cell()
    unable = Unavailable("target aws cannot act as sagemaker.amazonaws.com")
    seen = (
        {CANARY: unable}
        if where == "cell"
        else {CANARY: _refused_by_key(cell.call), PIPELINE: unable}
    )
    verdict = judge(cell, FakeProber(seen))  # type: ignore[arg-type]
    assert verdict.status is Status.UNAVAILABLE
    assert "cannot act as sagemaker" in verdict.message
