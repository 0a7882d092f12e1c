"""Inline skips (with a mandatory reason), --check/--skip-check and the baseline, on findings
as the gate's tools report them (no checkov needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.gate import baseline
from harness.gate.findings import Finding
from harness.gate.skips import inline_skips, select
from harness.gate.sources import Document, load

TEMPLATE = """\
Resources:
  Key:
    Type: AWS::KMS::Key
    Metadata:
      harness:
        skip:
          - id: CKV_XACCT_007
            reason: a throwaway key for a one-hour demo
          - id: CKV_AWS_33
  Bucket:
    Type: AWS::S3::Bucket
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_18
            comment: logs go to the organisation trail
          - id: CKV_AWS_21
  Queue:
    Type: AWS::SQS::Queue
    Metadata:
      cfn-lint:
        config:
          ignore_checks: [W3005]
"""


def _finding(file: Path, resource: str, check_id: str, detail: str = "") -> Finding:
    return Finding("checkov", str(file), resource, check_id, "title", detail, "fix", line=4)


@pytest.fixture
def template(tmp_path: Path) -> Document:
    path = tmp_path / "stack.yaml"
    path.write_text(TEMPLATE)
    document = load(path)
    assert document is not None and document.kind == "template"
    return document


def test_a_skip_with_a_reason_reports_the_finding_as_skipped(template: Document) -> None:
    skips = inline_skips([template])
    rotation = _finding(template.path, "Key", "CKV_XACCT_007")
    other = _finding(template.path, "Key", "CKV_XACCT_002")
    elsewhere = _finding(template.path, "Bucket", "CKV_XACCT_007")
    kept, skipped = skips.apply([rotation, other, elsewhere])
    assert kept == [other, elsewhere]
    assert [(s.finding, s.reason, s.by) for s in skipped] == [
        (rotation, "a throwaway key for a one-hour demo", "inline")
    ]


def test_a_checkov_skip_counts_with_its_comment_as_the_reason(template: Document) -> None:
    kept, skipped = inline_skips([template]).apply(
        [_finding(template.path, "Bucket", "CKV_AWS_18")]
    )
    assert kept == [] and skipped[0].reason == "logs go to the organisation trail"


def test_skips_without_a_reason_are_refused_and_hide_nothing(template: Document) -> None:
    skips = inline_skips([template])
    refused = {(f.resource, f.check_id, f.detail) for f in skips.refused}
    assert refused == {
        ("Key", "GATE_002", "harness skip of CKV_AWS_33 has no reason"),
        ("Bucket", "GATE_002", "checkov skip of CKV_AWS_21 has no comment"),
        ("Queue", "GATE_002", "cfn-lint ignore_checks ['W3005'] cannot carry a reason"),
    }
    assert all(f.line and f.fix and f.severity == "HIGH" for f in skips.refused)
    unreasoned = _finding(template.path, "Key", "CKV_AWS_33")
    assert skips.apply([unreasoned]) == ([unreasoned], [])


def test_check_and_skip_check_select_by_id_and_pattern(tmp_path: Path) -> None:
    ours = _finding(tmp_path / "t.yaml", "Key", "CKV_XACCT_007")
    stock = _finding(tmp_path / "t.yaml", "Key", "CKV_AWS_7")
    lint = _finding(tmp_path / "t.yaml", "Key", "W3005")
    kept, skipped = select([ours, stock, lint], ["CKV_*"], ["CKV_AWS_*"])
    assert kept == [ours]
    assert {s.finding.check_id: s.reason for s in skipped} == {
        "CKV_AWS_7": "named by --skip-check",
        "W3005": "not among --check CKV_*",
    }
    assert select([ours, stock], [], []) == ([ours, stock], [])


def test_baseline_accepts_todays_findings_and_fails_only_new_ones(tmp_path: Path) -> None:
    old = _finding(tmp_path / "infra" / "t.yaml", "Key", "CKV_XACCT_007", "EnableKeyRotation")
    fixed = _finding(tmp_path / "infra" / "t.yaml", "Bucket", "CKV_XACCT_001", "AES256")
    path = tmp_path / "gate-baseline.json"
    assert baseline.write([old, fixed], path) == 2
    assert json.loads(path.read_text())["findings"][0]["file"] == "infra/t.yaml"

    moved = Finding(**{**old.__dict__, "line": 40})  # an edit above it is not a new finding
    new = _finding(tmp_path / "infra" / "t.yaml", "Key", "CKV_XACCT_002", "root")
    again = _finding(tmp_path / "infra" / "t.yaml", "Key", "CKV_XACCT_007", "EnableKeyRotation")
    failing, accepted, gone = baseline.split([moved, new, again], baseline.read(path), path)
    assert failing == [new, again]  # a second identical finding is new too
    assert [s.finding for s in accepted] == [moved] and accepted[0].by == "baseline"
    assert gone == 1


def test_a_missing_or_foreign_baseline_is_named(tmp_path: Path) -> None:
    with pytest.raises(baseline.BaselineError, match=r"nope\.json: no such baseline"):
        baseline.read(tmp_path / "nope.json")
    foreign = tmp_path / "other.json"
    foreign.write_text('{"results": []}')
    with pytest.raises(baseline.BaselineError, match=r"other\.json: not a gate baseline"):
        baseline.read(foreign)
