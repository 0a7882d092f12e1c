"""Equivalence over the requests the checks sample, on hand-made policies: a mutant that
changes a sampled decision is not equivalent, one that changes none is."""

from __future__ import annotations

from typing import Any

from harness.evidence import Intent, PolicyKind
from harness.mutate.equivalence import (
    Change,
    Equivalence,
    Snapshot,
    as_decided,
    sampled,
)
from harness.mutate.mutants import Mutant, generate
from harness.mutate.sites import Kind, Site
from harness.policy import Policy
from harness.probes.calls import Call
from harness.probes.cells import Cell

A, B = "111111111111", "222222222222"
KEY = f"arn:aws:kms:us-east-1:{A}:key/k"
READER = f"arn:aws:iam::{B}:role/reader"
CANARY = f"arn:aws:iam::{B}:role/canary"
LOCAL = f"arn:aws:iam::{A}:role/local"
KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Reader",
            "Effect": "Allow",
            "Principal": {"AWS": READER},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
        {
            "Sid": "ThisAccount",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
    ],
}


def _allow(action: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}],
    }


class Held:
    """Policies as a target would hold them; counts how often they are read."""

    def __init__(self) -> None:
        self.reads = 0
        self.identities = {
            READER: _allow("kms:Decrypt"),
            CANARY: _allow("kms:*"),
            LOCAL: _allow("kms:Decrypt"),
        }

    def identity(self, principal: str) -> tuple[list[Policy], Policy | None]:
        self.reads += 1
        name = f"policy 'inline' of role {principal.rsplit('/', 1)[1]}"
        return [Policy.parse(self.identities[principal], name)], None

    def resource(self, intent: Intent) -> Policy | None:
        self.reads += 1
        return Policy.parse(KEY_POLICY, f"key policy of {KEY}")


def _decrypt(principal: str) -> Call:
    intent = Intent(principal, "kms:Decrypt", KEY, {"aws:SecureTransport": "true"})
    return Call(f"kms:Decrypt by {principal}", principal, "kms", lambda _: None, intent)


def _cell(principal: str, expected: bool) -> Cell:
    return Cell(
        id=f"{principal.rsplit('/', 1)[1]}-Decrypt",
        promise=2,
        group="direct key use",
        row=principal,
        column="Decrypt",
        call=_decrypt(principal),
        expected=expected,
        control=None if expected else _decrypt(READER),
        refused_by=frozenset({PolicyKind.KEY}),
        resource_side=not expected,
    )


KEY_SITE = Site(Kind.KEY, KEY, A, KEY_POLICY)


def _mutant(site: Site, sid: str, operator: str) -> Mutant:
    return next(m for m in generate([site]).mutants if m.sid == sid and m.operator == operator)


def _equivalence(*cells: Cell) -> Equivalence:
    return Equivalence(sampled({"key": {c.id: c for c in cells}}), Snapshot(Held()))


def test_a_mutant_that_changes_a_sampled_decision_is_not_equivalent() -> None:
    equivalence = _equivalence(_cell(READER, True), _cell(CANARY, False))
    changed = equivalence.changed(
        _mutant(KEY_SITE, "Reader", "widen Principal to the account root")
    )
    assert {(c.sample.label, c.change) for c in changed} == {
        ("key/canary-Decrypt (request)", Change.OUTCOME),
        ("key/canary-Decrypt (resource side)", Change.OUTCOME),
    }


def test_a_mutant_that_changes_no_sampled_decision_is_equivalent() -> None:
    equivalence = _equivalence(_cell(READER, True), _cell(CANARY, False))
    assert equivalence.changed(_mutant(KEY_SITE, "Reader", "widen Action to kms:*")) == []
    # Delegation to account A changes nothing for the principals of B the checks sample.
    assert equivalence.changed(_mutant(KEY_SITE, "ThisAccount", "remove the statement")) == []


def test_other_kinds_of_policy_allowing_is_a_change() -> None:
    equivalence = _equivalence(_cell(LOCAL, True))
    # Granted to everyone, the key policy alone allows what A's delegation and the role's
    # own policy allowed together: still allowed, by other kinds of policy.
    changed = equivalence.changed(_mutant(KEY_SITE, "ThisAccount", "widen Principal to *"))
    assert [(c.sample.label, c.change) for c in changed] == [
        ("key/local-Decrypt (request)", Change.ALLOW)
    ]


def test_an_identity_mutant_changes_only_its_roles_requests() -> None:
    site = Site(Kind.IDENTITY, READER, B, _allow("kms:Decrypt"), "inline")
    equivalence = _equivalence(_cell(READER, True), _cell(CANARY, False))
    removed = _mutant(site, "#0", "remove the statement")
    assert removed.document is None  # the inline policy is deleted
    changed = equivalence.changed(removed)
    # The reader's own request, and the canary's control (made by the reader).
    assert {(c.sample.label, c.change) for c in changed} == {
        ("key/reader-Decrypt (request)", Change.OUTCOME),
        ("key/canary-Decrypt (control)", Change.OUTCOME),
    }
    assert [s.label for s in map(equivalence.samples.__getitem__, equivalence.bearing(site))] == [
        "key/reader-Decrypt (request)",
        "key/canary-Decrypt (control)",
    ]


def test_policies_are_read_once() -> None:
    held = Held()
    equivalence = Equivalence(
        sampled({"key": {c.id: c for c in (_cell(READER, True), _cell(CANARY, False))}}),
        Snapshot(held),
    )
    for index in range(len(equivalence.samples)):
        equivalence.original(index)
    reads = held.reads
    equivalence.changed(_mutant(KEY_SITE, "Reader", "flip Effect to Deny"))
    assert held.reads == reads == 3  # two roles' identities and the key policy


def test_a_service_assumes_a_role_for_the_roles_account() -> None:
    role = f"arn:aws:iam::{B}:role/job"
    intent = as_decided(Intent("sagemaker.amazonaws.com", "sts:AssumeRole", role, {}))
    assert intent.context == {
        "aws:SourceAccount": B,
        "aws:PrincipalServiceName": "sagemaker.amazonaws.com",
    }
    caller = Intent(READER, "sts:AssumeRole", role, {})
    assert as_decided(caller) is caller
