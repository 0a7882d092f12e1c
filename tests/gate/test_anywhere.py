"""`harness gate` as a user outside the checkout runs it: the installed command, from a temporary
folder, on a copied template; with a baseline and inline skips."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.gate import main
from tests.gate.conftest import FAULTS, require_checkov

ROTATION = FAULTS / "CKV_XACCT_007-key-without-rotation.yaml"
TLS = FAULTS / "CKV_XACCT_006-tls-deny-objects-only.yaml"


@pytest.fixture(autouse=True)
def _checkov() -> None:
    require_checkov()


def test_installed_gate_runs_from_another_folder(tmp_path: Path) -> None:
    """No checkout in sight: not the working directory, not on the path."""
    command = shutil.which("harness", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.skip("no harness command in this environment")
    shutil.copy(TLS, tmp_path / "stack.yaml")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    completed = subprocess.run(
        [command, "gate", "stack.yaml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 1, completed.stderr
    assert "stack.yaml:6: ArtifactBucketPolicy: CKV_XACCT_006" in completed.stdout
    sarif = json.loads((tmp_path / "reports" / "gate" / "gate.sarif").read_text())
    rules = {r["id"]: r for run in sarif["runs"] for r in run["tool"]["driver"]["rules"]}
    assert rules["CKV_XACCT_006"]["helpUri"].startswith("https://docs.aws.amazon.com/")


def test_baseline_accepts_todays_findings_and_fails_on_new_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "infra").mkdir()
    shutil.copy(ROTATION, tmp_path / "infra" / "key.yaml")
    args = ["infra", "--baseline", "gate-baseline.json"]
    assert main(["--update-baseline", *args]) == 0
    assert main(args) == 0
    assert "skipped: 2 baseline" in capsys.readouterr().out  # CKV_AWS_7 and CKV_XACCT_007

    shutil.copy(TLS, tmp_path / "infra" / "bucket.yaml")
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "bucket.yaml:6: ArtifactBucketPolicy: CKV_XACCT_006" in out
    assert "key.yaml" not in out.split("gate FAILED")[0]


def test_inline_skip_with_a_reason_is_skipped_and_without_one_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    skip = (
        "    Metadata:\n      harness:\n        skip:\n"
        "          - id: CKV_XACCT_007\n            reason: a key for a one-hour demo\n"
        "          - id: CKV_AWS_7\n"
    )
    template = tmp_path / "key.yaml"
    template.write_text(
        ROTATION.read_text().replace(
            "    Type: AWS::KMS::Key\n", "    Type: AWS::KMS::Key\n" + skip
        )
    )
    assert main([str(template), "--report-dir", str(tmp_path / "r")]) == 1
    out = capsys.readouterr().out
    assert "skipped (inline): " in out and "CKV_XACCT_007" in out
    assert "reason: a key for a one-hour demo" in out
    failing = out.split("skipped (inline)")[0]
    assert "ArtifactKey: GATE_002 Skip without a reason (harness skip of CKV_AWS_7" in failing
    assert "CKV_AWS_7 Ensure rotation" in failing  # the refused skip hides nothing
    sarif = json.loads((tmp_path / "r" / "gate.sarif").read_text())
    suppressed = [r for run in sarif["runs"] for r in run["results"] if r.get("suppressions")]
    assert [(r["ruleId"], r["suppressions"][0]["kind"]) for r in suppressed] == [
        ("CKV_XACCT_007", "inSource")
    ]
