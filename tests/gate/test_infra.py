"""The real infra/ passes the gate, and the gate's reports and exit codes say so."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.gate import GateResult, main
from harness.gate.checkov_runner import CheckovError, scan
from tests.gate.conftest import FAULTS, REPO, require_checkov

INFRA = REPO / "infra"


@pytest.fixture(autouse=True)
def _checkov() -> None:
    require_checkov()


@pytest.mark.skipif(not (INFRA / "templates").is_dir(), reason="infra/templates not written yet")
def test_infra_passes_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(INFRA), "--report-dir", str(tmp_path)])
    output = capsys.readouterr().out
    assert (code, output.splitlines()[:-1]) == (0, [])
    assert output.startswith("gate passed")
    junit = ET.parse(tmp_path / "gate-junit.xml").getroot()
    checked = {case.get("name") for case in junit.iter("testcase")}
    expected = [
        "templates/shared-services.yaml",
        "templates/training.yaml",
        "templates/production.yaml",
        "pipeline/training-stack.yaml",
        "pipeline/pipeline.json",
    ]
    for name in expected:
        assert any(c.endswith(f"infra/{name}") for c in checked), name


def test_reports_are_sarif_and_junit(gate_run: GateResult) -> None:
    sarif = json.loads(gate_run.reports["sarif"].read_text())
    assert sarif["version"] == "2.1.0"
    results = [r for run in sarif["runs"] for r in run["results"]]
    assert len(results) == len(gate_run.findings)
    assert {r["ruleId"] for r in results} >= {"CKV_XACCT_007", "CKV_XACCT_013", "W3037"}
    suites = ET.parse(gate_run.reports["junit"]).getroot()
    gate_suite = suites.find("testsuite[@name='gate']")
    assert gate_suite is not None
    assert gate_suite.get("tests") == str(len(gate_run.documents))
    failed = {
        case.get("name") for case in gate_suite.iter("testcase") if case.find("failure") is not None
    }
    assert any(name.endswith("CKV_XACCT_018-account-parameter-unpinned.yaml") for name in failed)


def test_main_exits_1_and_prints_one_line_per_finding(tmp_path: Path, capsys) -> None:
    fixture = FAULTS / "CKV_XACCT_006-tls-deny-objects-only.yaml"
    assert main([str(fixture), "--report-dir", str(tmp_path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any("ArtifactBucketPolicy: CKV_XACCT_006" in line for line in lines)
    assert lines[-1].startswith("gate FAILED")


def test_checkov_runs_without_network(tmp_path: Path) -> None:
    """In a network namespace with no interfaces the gate finishes, and finds the same."""
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace here (needs root and unshare)")
    fixture = FAULTS / "CKV_XACCT_002-key-use-to-account-roots.yaml"
    code = (
        "import sys; from harness.gate import main; "
        f"sys.exit(main([{str(fixture)!r}, '--report-dir', {str(tmp_path)!r}]))"
    )
    completed = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 1, completed.stderr
    assert "CKV_XACCT_002" in completed.stdout


def test_a_custom_check_that_fails_to_load_stops_the_gate(tmp_path: Path) -> None:
    """checkov itself only logs the import error and would pass without the check."""
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("")
    (checks / "broken.py").write_text("import no_such_module_for_the_gate_test\n")
    fixture = FAULTS / "CKV_XACCT_007-key-without-rotation.yaml"
    with pytest.raises(CheckovError, match="custom check did not load"):
        scan([fixture], checks, {})


def test_missing_custom_checks_stop_the_gate(tmp_path: Path) -> None:
    fixture = FAULTS / "CKV_XACCT_007-key-without-rotation.yaml"
    with pytest.raises(CheckovError, match="no custom checks package"):
        scan([fixture], tmp_path / "policies" / "checks", {})


def test_a_template_checkov_does_not_read_stops_the_gate(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n")
    with pytest.raises(CheckovError, match=r"checked no resource of: .*empty\.yaml"):
        scan([empty], REPO / "policies" / "checks", {})
