"""The promises on the rendered infra: proven; with a fault put in, refuted by a
counterexample the engine confirms; with a construct the model cannot encode, not claimed."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
import z3

from harness.allowlist import DEFAULT_ACCOUNTS, DEFAULT_OUTSIDER, load_allowlist, static_bindings
from harness.policy.access_matrix import Allowlist
from harness.policy.principal import Kind
from harness.proof import Document, System, Variant, Verdict, prove, prover
from harness.proof.principals import SymbolicPrincipal
from harness.proof.properties import Goal, Properties
from harness.proof.text import literal
from harness.prove.proofs import RESULTS, account_templates, project_path
from harness.prove.rendered import Renderer

B = DEFAULT_ACCOUNTS["B"]
ACCOUNTS = [*DEFAULT_ACCOUNTS.values(), DEFAULT_OUTSIDER]  # as harness prove asks
ENCRYPT = "key-use/kms:Encrypt/others"
RESOURCE = Variant.RESOURCE_SIDE


@pytest.fixture(scope="module")
def infra() -> System:
    return Renderer(account_templates()).infra().system


@pytest.fixture(scope="module")
def allowlist() -> Allowlist:
    path = project_path("policies", "access", "allowlist.yaml")
    return load_allowlist(path, static_bindings(DEFAULT_ACCOUNTS))


def _with(document: Document, *statements: dict[str, Any], drop: tuple[str, ...] = ()) -> Document:
    text = copy.deepcopy(dict(document.text))  # type: ignore[arg-type]
    text["Statement"] = [s for s in text["Statement"] if s.get("Sid") not in drop]
    text["Statement"] += list(statements)
    return Document(document.name, text)


def _prove(system: System, allowlist: Allowlist, **options: Any) -> list:
    """``prove``, reusing this process's results of properties whose documents are unchanged
    (as ``harness prove`` does): each test pays only for what its edit changes."""
    return prove(system, allowlist, ACCOUNTS, cache=RESULTS, **options)


def _result(results: list, prop: str, variant: Variant = Variant.RESOURCE_SIDE):
    return next(r for r in results if r.property.id == prop and r.variant is variant)


def test_the_infra_keeps_every_promise(infra: System, allowlist: Allowlist) -> None:
    results = _prove(infra, allowlist)
    assert {r.verdict for r in results} == {Verdict.PROVEN}
    groups = {r.property.group for r in results}
    assert groups == {"key-use", "encryption", "tls", "object-access", "trust", "liveness"}
    assert {r.variant for r in results} == set(Variant)
    witness = _result(results, "liveness/key/pipeline-role/kms:Decrypt").examples[0]
    assert witness.requests[0].decision.allowed


def _key_granted_to_b(infra: System, action: str) -> System:
    """``infra`` with a key policy statement (``WholeAccountB``) granting ``action`` to every
    principal of account B."""
    grant = {
        "Sid": "WholeAccountB",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
        "Action": action,
        "Resource": "*",
    }
    assert infra.key_policy is not None
    return replace(infra, key_policy=_with(infra.key_policy, grant), whole=False)


def test_a_key_granted_to_an_account_is_refuted(infra: System, allowlist: Allowlist) -> None:
    system = _key_granted_to_b(infra, "kms:Decrypt")
    # The one property and variant read: the other properties, the other variant and a third
    # counterexample would be proved for nothing (most of this file's CPU, when they were)
    asked: dict[str, Any] = {"only": ["key-use/kms:Decrypt/others"], "variants": [RESOURCE]}
    one = _result(_prove(system, allowlist, **asked, limit=1), asked["only"][0])
    result = _result(_prove(system, allowlist, **asked, limit=2), asked["only"][0])
    assert result.verdict is Verdict.FAILED
    assert len(one.examples) == 1 < len(result.examples), "a kept result of fewer is not reused"
    again = _result(_prove(system, allowlist, **asked, limit=1), result.property.id)
    assert again.examples == result.examples[:1], "a kept result of more serves fewer"
    decided = result.examples[0].requests[0]
    assert decided.request.principal.account == B and decided.decision.allowed
    assert decided.decision.statements[0].sid == "WholeAccountB"


def test_a_bucket_policy_without_the_kms_deny_is_refuted(
    infra: System, allowlist: Allowlist
) -> None:
    assert infra.bucket_policy is not None
    bucket = _with(infra.bucket_policy, drop=("DenyPutNotEncryptedWithKms",))
    system = replace(infra, bucket_policy=bucket, whole=False)
    # One counterexample, of the resource side, is all this reads: more (another kind of
    # principal each, as test_a_key_granted_to_an_account_is_refuted shows) and the deployed
    # identities would cost the solver for nothing.
    results = _prove(system, allowlist, only=["encryption"], limit=1, variants=[RESOURCE])
    result = _result(results, "encryption/put")
    assert result.verdict is Verdict.FAILED
    context = dict(result.examples[0].requests[0].request.context)
    assert context.get("s3:x-amz-server-side-encryption") != "aws:kms"


def test_a_construct_the_model_cannot_encode_is_not_claimed(
    infra: System, allowlist: Allowlist
) -> None:
    binary = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"BinaryEquals": {"s3:x-amz-meta-key": "QUJD"}},
    }
    assert infra.bucket_policy is not None
    system = replace(infra, bucket_policy=_with(infra.bucket_policy, binary), whole=False)
    result = _result(_prove(system, allowlist, only=["encryption"]), "encryption/put")
    assert result.verdict is Verdict.UNKNOWN
    assert "BinaryEquals cannot be encoded" in result.reason


def test_a_cell_no_request_satisfies_shows_the_request_it_needs(
    infra: System, allowlist: Allowlist
) -> None:
    assert infra.key_policy is not None
    key = _with(infra.key_policy, drop=("KeyDecryptByProductionReaders",))
    cell = "liveness/key/production-deploy-function-role/kms:Decrypt"
    result = _result(_prove(replace(infra, key_policy=key), allowlist, only=[cell]), cell)
    assert result.verdict is Verdict.FAILED
    shown = result.examples[0].requests[0]
    assert not shown.decision.allowed and shown.request.action == "kms:Decrypt"


def test_identity_policies_not_read_are_taken_as_the_worst_case(
    infra: System, allowlist: Allowlist
) -> None:
    roles = tuple(
        replace(r, unread=("arn:aws:iam::aws:policy/AmazonS3FullAccess",))
        if r.arn.endswith("-pipeline")
        else r
        for r in infra.roles
    )
    results = _prove(replace(infra, roles=roles, whole=False), allowlist, only=["tls"])
    deployed = _result(results, "tls/bucket-and-objects", Variant.DEPLOYED)
    assert deployed.verdict is Verdict.PROVEN
    assert any("AmazonS3FullAccess" in note for note in deployed.assumptions)


def test_results_are_reused_while_what_they_read_is_unchanged(
    infra: System, allowlist: Allowlist
) -> None:
    cache: dict = {}
    first = prove(infra, allowlist, only=["trust"], cache=cache)
    again = prove(infra, allowlist, only=["trust"], cache=cache)
    assert all(a is b for a, b in zip(first, again, strict=True))


def test_no_question_is_asked_once_the_counterexamples_asked_for_are_found(
    infra: System, allowlist: Allowlist, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = _key_granted_to_b(infra, "kms:Encrypt")
    [prop] = [p for p in Properties(system, allowlist, ACCOUNTS).all() if p.id == ENCRYPT]
    searches: list[tuple[z3.CheckSatResult, object]] = []
    search = prover._search

    def counted(*args: Any) -> tuple[z3.CheckSatResult, object]:
        searches.append(search(*args))
        return searches[-1]

    monkeypatch.setattr(prover, "_search", counted)
    result = prover.solve(prop, Variant.RESOURCE_SIDE, limit=1)
    assert result.verdict is Verdict.FAILED and len(result.examples) == 1
    assert [answer for answer, _ in searches] == [z3.sat], "one search found it: none after"


def test_a_goal_built_again_is_answered_without_the_solver(
    infra: System, allowlist: Allowlist, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Goals name their variables alike, so the same property built again (as for another
    system reading the same statements) asks the very questions already answered."""
    cell = "liveness/key/pipeline-role/kms:Decrypt"
    first, again = (
        next(p for p in Properties(infra, allowlist, ACCOUNTS).all() if p.id == cell)
        for _ in range(2)
    )
    shown = prover.solve(first, Variant.DEPLOYED)
    solvers: list[z3.Solver] = []
    solver = z3.Solver

    def counted() -> z3.Solver:
        solvers.append(solver())
        return solvers[-1]

    monkeypatch.setattr(z3, "Solver", counted)
    reused = prover.solve(again, Variant.DEPLOYED)
    assert not solvers, "the questions were asked again"
    assert reused.verdict is shown.verdict is Verdict.PROVEN
    requests = [[d.request for d in e.requests] for e in (*shown.examples, *reused.examples)]
    assert requests[0] == requests[1]


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[list[z3.BoolRef]]:
    """The questions put to the prover's solver from now on (those answered before too)."""
    asked: list[list[z3.BoolRef]] = []
    check = prover._check

    def recorded(constraints: list[z3.BoolRef], steps: int | None = None) -> Any:
        asked.append(list(constraints))
        return check(constraints, steps)

    monkeypatch.setattr(prover, "_check", recorded)
    return asked


def test_a_preference_the_model_meets_is_kept_without_asking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x = z3.Int("steered.x")
    solver = z3.Solver()
    solver.add(x == 1)
    assert solver.check() == z3.sat
    asked = _asked(monkeypatch)
    model = prover._steer([x >= 0], solver.model(), [x == 1, x == 2, x >= 1])
    assert model.eval(x).as_long() == 1
    # all at once (unsat), then x == 2 with the kept x == 1 (unsat): x == 1 and x >= 1 hold
    assert [len(question) for question in asked] == [4, 3]


def test_where_a_model_is_expected_the_preferences_are_asked_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A liveness witness or a further counterexample: the question with every preference
    finds the steered model without a search before it; elsewhere the search comes first."""
    principal = SymbolicPrincipal.fresh(name="expected")
    goal = Goal(principal, (), True, preferences=(principal.session == literal("proof"),))
    constraints = [principal.domain(), principal.of_kind(Kind.ASSUMED_ROLE)]
    searched: list[object] = []

    def search(*args: object) -> tuple[z3.CheckSatResult, None]:
        searched.append(args)
        return z3.unknown, None

    monkeypatch.setattr(prover, "_search", search)
    answer, model = prover._find(constraints, goal, expected=True)
    assert answer == z3.sat and model is not None and not searched
    assert principal.decode(model).session == "proof"
    assert prover._find(constraints, goal, expected=False) == (z3.unknown, None)
    assert searched, "no model expected: the search first"


def test_a_liveness_witness_is_found_without_a_search(
    infra: System, allowlist: Allowlist, monkeypatch: pytest.MonkeyPatch
) -> None:
    cell = "liveness/key/pipeline-role/kms:Decrypt"
    [prop] = [p for p in Properties(infra, allowlist, ACCOUNTS).all() if p.id == cell]
    monkeypatch.setattr(prover, "_search", lambda *_: pytest.fail("searched"))
    result = prover.solve(prop, Variant.RESOURCE_SIDE)
    assert result.verdict is Verdict.PROVEN
    assert result.examples[0].principal.session == "proof", "steered: a preference holds"


def test_a_key_action_is_encoded_once_per_variant(infra: System, allowlist: Allowlist) -> None:
    """The key-use properties and key cells of an action ask about one request by the goal's
    principal: its check, and what decides it, are built once per variant."""
    properties = {p.id: p for p in Properties(infra, allowlist, ACCOUNTS).all()}

    def check(prop: str, variant: Variant = RESOURCE) -> object:
        [goal] = properties[prop].goals(variant)
        assert goal.principal is goal.checks[0].request.principal
        return goal.checks[0]

    decrypt = check("key-use/kms:Decrypt/others")
    assert check("key-use/kms:Decrypt/data-publisher-role") is decrypt
    assert check("liveness/key/pipeline-role/kms:Decrypt") is decrypt
    assert check("key-use/kms:Encrypt/others") is not decrypt
    assert check("key-use/kms:Decrypt/others", Variant.DEPLOYED) is not decrypt
