"""Fault drills: the compliance suite, run on a deployment of a faulty variant of A's template,
must fail naming the check and the principal, and teardown must still leave nothing behind.

Each drill runs the suite in its own process (one local target per process), limited to the
checks that the fault concerns so it stays fast; the faulty template is the project's own with
one change, the one the public original made (DESIGN.md section 2).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.templates import ACCOUNT_TEMPLATES, load_template
from tests.drills.suite import run_suite

# Evidence that the suite or the proof catches a fault: `tox -e evidence` runs these.
pytestmark = pytest.mark.evidence

Template = dict[str, Any]


def _grant_key_to_training_root(template: Template) -> None:
    statements = template["Resources"]["ArtifactKey"]["Properties"]["KeyPolicy"]["Statement"]
    statements.append(
        {
            "Sid": "FaultKeyUseByTrainingAccount",
            "Effect": "Allow",
            "Principal": {
                "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${TrainingAccountId}:root"}
            },
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
            "Resource": "*",
        }
    )


def _default_bucket_to_aes256(template: Template) -> None:
    encryption = template["Resources"]["ArtifactBucket"]["Properties"]["BucketEncryption"]
    encryption["ServerSideEncryptionConfiguration"] = [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]


def _drop_tls_deny(template: Template) -> None:
    document = template["Resources"]["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]
    kept = [s for s in document["Statement"] if s.get("Sid") != "DenyInsecureTransport"]
    assert len(kept) == len(document["Statement"]) - 1, "no DenyInsecureTransport to drop"
    document["Statement"] = kept


@dataclass(frozen=True)
class Drill:
    fault: Callable[[Template], None]
    selection: str  # pytest -k: the checks the fault concerns
    failing: tuple[str, ...]  # test ids that must fail ...
    naming: str  # ... with this in their message (the principal or resource at fault)


DRILLS = {
    "key-granted-to-training-root": Drill(
        _grant_key_to_training_root,
        "test_direct_key_use and admin-like or computed_from",
        (
            "test_direct_key_use[admin-like_role_in_B-Decrypt]",
            "test_direct_key_use[admin-like_role_in_B-Encrypt]",
            "test_matrix_computed_from_the_deployed_policies_equals_allowlist",
        ),
        "admin-like role in B",
    ),
    "bucket-default-aes256": Drill(
        _default_bucket_to_aes256,
        "default_encryption",
        ("test_bucket_default_encryption_is_this_key",),
        "AES256",
    ),
    "tls-deny-dropped": Drill(
        _drop_tls_deny,
        "without_tls",
        (
            "test_request_without_tls_is_refused[pipeline-role-put]",
            "test_request_without_tls_is_refused[data-publisher-role-put]",
            "test_request_without_tls_is_refused[deployer_of_A-ListBucket]",
        ),
        "over plain HTTP",
    ),
}


def _failures(junit: Path) -> dict[str, str]:
    """Failed test name -> failure message, from the JUnit file."""
    failed = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        for problem in [*case.iter("failure"), *case.iter("error")]:
            failed[case.get("name", "")] = problem.get("message", "") + (problem.text or "")
    return failed


@pytest.mark.parametrize("name", sorted(DRILLS))
def test_fault_fails_the_suite_and_teardown_is_clean(name: str, tmp_path: Path) -> None:
    drill = DRILLS[name]
    template = load_template(ACCOUNT_TEMPLATES["shared-services"])
    drill.fault(template)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "shared-services.json").write_text(json.dumps(template))
    report = tmp_path / "report"
    completed = run_suite(report, "-k", drill.selection, "--templates", str(templates))
    assert completed.returncode == 1, completed.stdout[-3000:] + completed.stderr[-3000:]
    failures = _failures(report / "junit.xml")
    for test_id in drill.failing:
        assert test_id in failures, f"{test_id} did not fail; failures: {sorted(failures)}"
        assert drill.naming in failures[test_id], failures[test_id]
    summary = (report / "summary.md").read_text()
    assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]
