"""Every gate rule and live check has complete metadata beside it, and `harness rules` lists it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.cli import main
from harness.project_policies import policies_dir
from harness.rules import (
    FIELDS,
    SUITE,
    RuleError,
    all_rules,
    gate_rules,
    live_rule,
    load_file,
    load_rules,
)

CHECKS = policies_dir() / "checks"
CHECK_MODULES = sorted(
    p for p in CHECKS.glob("*.py") if p.name not in {"__init__.py", "xacct_check_base.py"}
)


def _test_functions(module: Path) -> list[str]:
    tree = ast.parse(module.read_text())
    return [
        n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
    ]


def test_every_rule_has_every_field() -> None:
    rules = all_rules()
    assert len(rules) >= 40
    for rule in rules.values():
        for field in FIELDS:
            assert getattr(rule, field).strip(), (rule.id, field)
        assert rule.doc_url.startswith("https://docs.aws.amazon.com/"), rule.id


def test_every_checkov_check_has_its_metadata_beside_it() -> None:
    assert CHECK_MODULES
    for module in CHECK_MODULES:
        rules = load_file(module.with_suffix(".toml"), "gate")
        assert len(rules) == 1, module
        assert rules[0].id in module.read_text().split("\n", 1)[0], "docstring names the id"
    assert {p.stem for p in CHECKS.glob("*.toml")} == {p.stem for p in CHECK_MODULES}


def test_every_live_check_has_a_rule_and_every_rule_a_check() -> None:
    rules = all_rules()
    modules = sorted(SUITE.glob("test_*.py"))
    assert modules
    for module in modules:
        for function in _test_functions(module):
            nodeid = f"tests/integration/{module.name}::{function}[cell]"
            assert live_rule(nodeid, rules) is not None, nodeid
    for rule in (r for r in rules.values() if r.kind == "live"):
        assert rule.check in _test_functions(SUITE / f"{Path(rule.source).stem}.py"), rule.id


def test_a_rule_without_a_field_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        '[[rule]]\nid = "X_001"\ntitle = "t"\ndescription = "d"\nseverity = "HIGH"\n'
        'doc_url = "https://docs.aws.amazon.com/x"\n'
    )
    with pytest.raises(RuleError, match="X_001 lacks fix"):
        load_file(broken, "gate")


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('severity = "SEVERE"', "severity 'SEVERE' is not one of"),
        ('doc_url = "https://example.com/x"', "doc_url must be AWS documentation"),
        ('owner = "me"', "unknown field"),
    ],
)
def test_a_rule_with_a_bad_field_is_refused(tmp_path: Path, line: str, error: str) -> None:
    fields = {
        "id": '"X_002"',
        "title": '"t"',
        "description": '"d"',
        "severity": '"HIGH"',
        "doc_url": '"https://docs.aws.amazon.com/x"',
        "fix": '"f"',
    }
    key = line.split(" = ")[0]
    fields[key] = line.split(" = ", 1)[1]
    path = tmp_path / "bad.toml"
    path.write_text("[[rule]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()))
    with pytest.raises(RuleError, match=error):
        load_file(path, "gate")


def test_an_id_defined_twice_is_refused() -> None:
    check = CHECK_MODULES[0].with_suffix(".toml")
    with pytest.raises(RuleError, match="is also defined in"):
        load_rules([(check, "gate"), (check, "gate")])


def test_gate_own_rules_include_the_skip_and_parse_rules() -> None:
    assert {"GATE_001", "GATE_002", "CKV_XACCT_013", "CKV_XACCT_018"} <= set(gate_rules())


def test_harness_rules_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines()}
    assert listed == set(all_rules())


def test_harness_rules_shows_one_rule_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "CKV_XACCT_002"]) == 0
    text = capsys.readouterr().out
    rule = all_rules()["CKV_XACCT_002"]
    assert rule.doc_url in text and "CRITICAL" in text and "fix" in text


def test_harness_rules_refuses_an_unknown_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "CKV_NOPE_1"]) == 2
    assert "no rule CKV_NOPE_1" in capsys.readouterr().err
