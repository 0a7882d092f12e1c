"""Reliability drills: bad input refused before anything starts, and a provider that raises in
the middle of a deploy rolls the stack back, leaves nothing, and names the resource and cause.

Each drill fails if its outcome changes: the exit code, the line naming the input or the
resource, the time it took to refuse, and what is left on the target afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.targets import StackFailed
from harness.targets.local import LocalTarget
from harness.targets.local.faults import VARIABLE
from harness.templates import ACCOUNT_TEMPLATES, load_template, package

REPO = Path(__file__).resolve().parents[2]
REFUSED_WITHIN_S = 30.0  # an import of the CLI; a started target or deploy takes far longer


def harness(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


# Whole processes, as a user meets them; each rule and command has its unit test as well
# (tests/unit/harness/test_validation.py), so these stay few: each costs a CLI start.
BAD_INPUTS = {
    "prefix": (["run", "--prefix", "BAD_Prefix!"], "--prefix 'BAD_Prefix!': must match"),
    "target": (["run", "--target", "cloud"], "--target 'cloud': must be one of"),
    "templates": (["run", "--templates", "/nonexistent"], "--templates /nonexistent: must be"),
    "drill fault on aws": (["deploy", "--target", "aws"], "HARNESS_FAULT (a drill's fault)"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_exits_2_naming_it_with_nothing_started(name: str, tmp_path: Path) -> None:
    argv, named = BAD_INPUTS[name]
    report = tmp_path / "report"
    env = {VARIABLE: "provider-raises:1"} if name == "drill fault on aws" else {}
    began = time.monotonic()
    done = harness(*argv, *(["--report", str(report)] if argv[0] == "run" else []), env=env)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert named in done.stderr, done.stderr
    assert "nothing was started" in done.stderr.splitlines()[-1]
    assert "Traceback" not in done.stderr
    assert "starting target" not in done.stdout + done.stderr
    assert not report.exists()
    assert time.monotonic() - began < REFUSED_WITHIN_S


def test_unwritable_report_folder_is_refused_at_start(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes through permissions: a file stands in the way instead
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        report = blocker / "report"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        report = locked / "report"
    done = harness("run", "--report", str(report))
    assert done.returncode == 2, done.stderr
    assert f"report folder {report}: must be writable" in done.stderr
    assert "starting target" not in done.stdout + done.stderr


DRILL_ACCOUNTS = {
    "shared-services": "910000000001",
    "training": "910000000002",
    "production": "910000000003",
}


def test_a_provider_raising_on_the_third_resource_rolls_back_leaving_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(VARIABLE, "provider-raises:3")
    path = ACCOUNT_TEMPLATES["shared-services"]
    body = json.dumps(package(load_template(path), path))
    parameters = {
        "Prefix": "drill",
        "TrainingAccountId": DRILL_ACCOUNTS["training"],
        "ProductionAccountId": DRILL_ACCOUNTS["production"],
        "DataPublisherPrincipalArn": "arn:aws:iam::910000000001:role/harness-deployer",
    }
    with LocalTarget(DRILL_ACCOUNTS) as target:
        session = target.session("shared-services")
        with pytest.raises(StackFailed) as failed:
            target.deploy_stack("shared-services", "drill-shared-services", body, parameters)
        cloudformation = target.client("cloudformation", session)
        events = cloudformation.describe_stack_events(StackName="drill-shared-services")
        stack = cloudformation.describe_stacks(StackName="drill-shared-services")["Stacks"][0]
        created = [
            e["LogicalResourceId"]
            for e in events["StackEvents"]
            if e["ResourceStatus"] == "CREATE_COMPLETE"
        ]
        roles = target.client("iam", session).list_roles()["Roles"]
        buckets = target.client("s3", session).list_buckets()["Buckets"]
        keys = target.client("kms", session).list_keys()["Keys"]
        key_states = [
            target.client("kms", session).describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"]
            for k in keys
        ]
        log = target.log_path.read_text() if target.log_path else ""
    [failure] = [e for e in events["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    resource = failure["LogicalResourceId"]
    assert len(created) == 2, created  # the third resource is the one that raised
    assert failure["ResourceStatusReason"] == (
        f"Internal failure: DrillFault: drill: the provider of {resource} raised (resource 3) "
        "(traceback in the target's log)"
    )
    assert resource in str(failed.value) and "DrillFault" in str(failed.value)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert [r["RoleName"] for r in roles if r["RoleName"].startswith("drill")] == []
    assert [b["Name"] for b in buckets if b["Name"].startswith("drill")] == []
    assert set(key_states) <= {"PendingDeletion"}
    assert "Traceback (most recent call last)" in log and "DrillFault" in log
