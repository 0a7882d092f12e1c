"""Every known fault of the original (DESIGN.md section 2) fails the gate with its own id."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.gate import GateResult
from harness.rules import gate_rules
from tests.gate.conftest import FAULTS, PASSING

FIXTURES = sorted(p for p in FAULTS.iterdir() if p.suffix in (".yaml", ".json"))


def _expected_id(fixture: Path) -> str:
    """Fixtures are named after the check that must catch them: CKV_XACCT_NNN-what.yaml."""
    return fixture.name.split("-", 1)[0]


def _custom_ids(result: GateResult, file: Path) -> set[str]:
    return {
        f.check_id
        for f in result.findings
        if Path(f.file).resolve() == file.resolve() and f.check_id.startswith("CKV_XACCT")
    }


@pytest.mark.parametrize("fixture", FIXTURES, ids=[p.name for p in FIXTURES])
def test_fault_fixture_fails_with_its_id_only(gate_run: GateResult, fixture: Path) -> None:
    assert _custom_ids(gate_run, fixture) == {_expected_id(fixture)}


def test_every_fixture_was_checked(gate_run: GateResult) -> None:
    checked = {d.path.resolve() for d in gate_run.documents}
    assert checked == {p.resolve() for p in [*FIXTURES, *PASSING.glob("*.yaml")]}
    assert not gate_run.passed


def test_every_custom_check_has_a_fault_fixture() -> None:
    """One rule per check file is kept by the check's loader (policies/checks)."""
    custom = {i for i in gate_rules() if i.startswith("CKV_XACCT")}
    assert custom == {_expected_id(p) for p in FIXTURES}


def test_fault_findings_name_file_resource_id_and_fix(gate_run: GateResult) -> None:
    for finding in gate_run.findings:
        line = finding.line_text()
        assert finding.file in line and finding.check_id in line and "-- fix: " in line
        assert finding.resource and finding.fix


def test_accepted_patterns_pass_the_whole_gate(gate_run: GateResult) -> None:
    """Roots pinned by aws:PrincipalArn, admin by the own root, PassRole with a service..."""
    passing = [
        f.line_text()
        for f in gate_run.findings
        if Path(f.file).resolve().parent == PASSING.resolve()
    ]
    assert passing == []


PROVEN_FAULTS = {  # fault fixtures that bear on the key, bucket or a trust: the proof's rule
    "CKV_XACCT_002-key-use-to-account-roots.yaml": "PROOF_KEY_USE",
    "CKV_XACCT_003-pipeline-role-key-admin.yaml": "PROOF_KEY_USE",
    "CKV_XACCT_004-pipeline-role-trusts-account-roots.yaml": "PROOF_TRUST",
    "CKV_XACCT_006-tls-deny-objects-only.yaml": "PROOF_TLS",
}


def test_the_gate_runs_the_proof(gate_run: GateResult) -> None:
    """``harness gate`` proves the promises on what it checks, and cites the statement."""
    for name, rule in PROVEN_FAULTS.items():
        lines = [
            f.line
            for f in gate_run.findings
            if f.tool == "prove" and f.check_id == rule and Path(f.file).name == name
        ]
        assert lines and all(lines), f"{name}: no {rule} finding at a line"
