"""Counterexamples written as pytest cases: valid Python, names as placeholders."""

from __future__ import annotations

import ast
import re

from harness.prove.cases import Placeholders
from harness.prove.proofs import of_files, project_path
from harness.prove.replay import Case, Fault, bind

FIXTURE = project_path(
    "tests", "gate", "fixtures", "CKV_XACCT_004-pipeline-role-trusts-account-roots.yaml"
)
ACCOUNT = re.compile(r"\b(111111111111|222222222222|333333333333)\b")


def test_placeholders_replace_names_longest_first() -> None:
    names = Placeholders({"111111111111": "${A}", "bucket-111111111111": "${Bucket}"}, "mlops")
    assert names("arn:aws:s3:::bucket-111111111111/mlops/x") == "arn:aws:s3:::${Bucket}/${Prefix}/x"
    assert names({"role/mlops-pipeline": ["111111111111"]}) == {"role/${Prefix}-pipeline": ["${A}"]}
    assert names("mlopsy") == "mlopsy"


def test_a_fault_fixture_leaves_a_replay_module() -> None:
    [proof] = of_files([FIXTURE])
    replay = proof.replay_module(project_path("reports", "x.py"))
    assert replay is not None
    text, command = replay
    assert command.startswith("pytest -p harness.pytest_plugin "), "no account to add"
    tree = ast.parse(text)
    assert any(
        isinstance(n, ast.FunctionDef) and n.name == "test_counterexample" for n in tree.body
    )
    data = text.split("\n@pytest.mark.parametrize", 1)[0]  # the cases, not the marked test
    namespace: dict = {"__name__": "replay"}
    exec(compile(data, "replay", "exec"), namespace)
    cases, fault = namespace["CASES"], namespace["FAULT"]
    assert cases and all(isinstance(c, Case) and c.expect == "denied" for c in cases)
    assert isinstance(fault, Fault) and "arn:aws:iam::${A}:role/${Prefix}-pipeline" in fault.trusts
    assert not ACCOUNT.search(repr(cases)), "account ids are placeholders"


def test_placeholders_bind_to_a_deployment() -> None:
    values = {"A": "710000000001", "Prefix": "unit", "KeyArn": "arn:k"}
    bound = bind({"principal": "arn:aws:iam::${A}:role/${Prefix}-x", "key": ["${KeyArn}"]}, values)
    assert bound == {"principal": "arn:aws:iam::710000000001:role/unit-x", "key": ["arn:k"]}


def test_a_principal_of_another_account_asks_the_target_for_it() -> None:
    foreign = project_path(
        "tests", "gate", "fixtures", "CKV_XACCT_013-hardcoded-foreign-account.yaml"
    )
    [proof] = of_files([foreign], only=["trust"])
    replay = proof.replay_module(project_path("reports", "x.py"))
    assert replay is not None
    text, command = replay
    assert command.startswith("HARNESS_LOCAL_EXTRA_ACCOUNTS=444455556666 pytest -p ")
    assert command in text, "the module says how to run it"
