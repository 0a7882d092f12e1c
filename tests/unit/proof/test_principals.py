"""Any principal as z3 terms: the domain holds every kind the engine knows, and a principal
element names a principal for the model exactly as ``PrincipalSpec`` does."""

from __future__ import annotations

from functools import cache

import pytest
import z3

from harness.policy import Principal
from harness.policy.policy import PrincipalSpec
from harness.proof.logic import term
from harness.proof.principals import KINDS, SymbolicPrincipal, named_by

PRINCIPALS = [
    Principal.from_arn("arn:aws:iam::111111111111:root"),
    Principal.from_arn("arn:aws:iam::111111111111:user/div/alice"),
    Principal.from_arn("arn:aws:iam::222222222222:role/app"),
    Principal.from_arn("arn:aws:sts::222222222222:assumed-role/app/s1"),
    Principal.from_arn("arn:aws:sts::222222222222:federated-user/bob"),
    Principal.service("sagemaker.amazonaws.com"),
    Principal.federated("cognito-identity.amazonaws.com"),
    Principal.anonymous(),
]
SPECS = [
    PrincipalSpec.parse({"AWS": "111111111111"}, "t"),
    PrincipalSpec.parse({"AWS": "arn:aws:iam::222222222222:role/app"}, "t"),
    PrincipalSpec.parse(
        {"AWS": ["arn:aws:sts::222222222222:assumed-role/app/s1", "222222222222"]}, "t"
    ),
    PrincipalSpec.parse({"AWS": "arn:aws:iam::111111111111:user/div/alice"}, "t"),
    PrincipalSpec.parse({"Service": "sagemaker.amazonaws.com"}, "t"),
    PrincipalSpec.parse({"Federated": "cognito-identity.amazonaws.com"}, "t"),
    PrincipalSpec.parse("*", "t"),
]


@cache
def _pinned(principal: Principal) -> tuple[SymbolicPrincipal, z3.Solver]:
    """Any principal, pinned to ``principal`` in a solver the module's questions about it
    share (each asked as an assumption): the domain and pin are asserted once."""
    symbolic = SymbolicPrincipal.fresh(KINDS)
    solver = z3.Solver()
    solver.add(symbolic.domain(), symbolic.pin(principal))
    return symbolic, solver


def _value(formula: object, principal: Principal) -> bool:
    symbolic, solver = _pinned(principal)
    model_true = solver.check(term(formula(symbolic)))  # type: ignore[operator]
    model_false = solver.check(z3.Not(term(formula(symbolic))))  # type: ignore[operator]
    assert sorted(map(str, (model_true, model_false))) == ["sat", "unsat"], "undecided"
    return model_true == z3.sat


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.kind.value)
def test_the_domain_holds_every_kind_and_decodes_it(principal: Principal) -> None:
    symbolic = SymbolicPrincipal.fresh(KINDS)
    solver = z3.Solver()
    solver.add(symbolic.domain(), symbolic.pin(principal))
    assert solver.check() == z3.sat
    assert symbolic.decode(solver.model()) == principal


def test_requests_come_from_sessions_not_from_the_role_itself() -> None:
    symbolic = SymbolicPrincipal.fresh()
    solver = z3.Solver()
    solver.add(symbolic.domain(), symbolic.pin(PRINCIPALS[2]))
    assert solver.check() == z3.unsat


def _spec_id(spec: PrincipalSpec) -> str:
    """A stable id: a frozenset's order differs between processes, and xdist's workers must
    collect the same ids."""
    return ",".join(["*"] * spec.everyone + sorted(":".join(name) for name in spec.names))


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.kind.value)
def test_principal_elements_name_as_the_engine_does(
    spec: PrincipalSpec, principal: Principal
) -> None:
    match = spec.match(principal)
    assert _value(lambda p: p.named(spec)[0], principal) is (
        match is not None and match.value == "direct"
    )
    assert _value(lambda p: p.named(spec)[1], principal) is (
        match is not None and match.value == "account"
    )
    assert _value(lambda p: p.exempted(spec), principal) is spec.exempts(principal)


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.kind.value)
@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::222222222222:role/app",
        "arn:aws:iam::111111111111:root",
        "sagemaker.amazonaws.com",
    ],
)
def test_allow_list_names_mean_the_same_symbolically_and_concretely(
    principal: Principal, arn: str
) -> None:
    assert _value(lambda p: p.is_named_by(arn), principal) is named_by(arn, principal)


def test_principals_of_one_name_share_their_terms_and_no_others() -> None:
    """A goal's principal is built anew for each goal under one name: its terms are built
    once; a principal of another name, or of other kinds, has its own."""
    arn = "arn:aws:iam::222222222222:role/app"
    first, again = (SymbolicPrincipal.fresh(name="shared") for _ in range(2))
    assert first.is_named_by(arn) is again.is_named_by(arn)
    assert first.named(SPECS[0]) is again.named(SPECS[0])
    assert first.in_account("111111111111") is again.in_account("111111111111")
    assert first.is_one_of(("111111111111", "app")) is again.is_one_of(("111111111111", "app"))
    assert SymbolicPrincipal.fresh().is_named_by(arn) is not SymbolicPrincipal.fresh().is_named_by(
        arn
    )
    wider = SymbolicPrincipal.fresh(KINDS, name="shared")
    assert not wider.domain().eq(first.domain())
    assert first.scoped("ctx") == again.scoped("ctx") == "shared.ctx0", "counts are each one's"
