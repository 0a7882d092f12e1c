"""``harness prove``: its output, reports and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main as harness_main
from harness.prove import main
from harness.prove.proofs import project_path

FIXTURES = project_path("tests", "gate", "fixtures")


def test_the_infra_is_proven(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(project_path("infra")), "--only", "trust", "--report", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "proven" in output.splitlines()[-1] and "failed" not in output
    document = json.loads((tmp_path / "prove.json").read_text())
    assert {r["verdict"] for r in document[0]["results"]} == {"PROVEN"}
    assert not list(tmp_path.glob("test_*.py"))


def test_a_fault_fails_with_a_counterexample_and_its_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fixture = FIXTURES / "CKV_XACCT_011-cfn-role-reused-for-sagemaker.yaml"
    assert main([str(fixture), "--report", str(tmp_path)]) == 1
    output = capsys.readouterr().out
    assert "FAILED  trust/mlops-b-cloudformation" in output
    assert "counterexample 1: sagemaker.amazonaws.com" in output
    assert f"{fixture.name}:" in output, "the statement at fault is cited at its line"
    [replay] = tmp_path.glob("test_counterexamples_*.py")
    assert "pytest -p harness.pytest_plugin" in output and replay.name in output


def test_a_fragment_that_cannot_be_placed_is_unproven(tmp_path: Path) -> None:
    fixture = FIXTURES / "CKV_XACCT_012-passrole-without-condition.yaml"
    assert main([str(fixture), "--report", str(tmp_path)]) == 3


def test_templates_and_a_target_together_are_refused() -> None:
    with pytest.raises(SystemExit):
        main(["infra", "--target", "local"])


def test_the_harness_command_lists_prove(capsys: pytest.CaptureFixture[str]) -> None:
    harness_main(["--help"])
    assert "prove" in capsys.readouterr().out


def test_a_template_that_cannot_be_read_is_unproven_with_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources:\n  Policy:\n    Condition: {Null: {a: b}}\n")
    assert main([str(broken), "--report", str(tmp_path / "report")]) == 3
    assert "NOT PROVEN: cannot be read: " in capsys.readouterr().out
