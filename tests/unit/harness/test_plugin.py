"""The plugin's ``requires`` marker: a check needing a capability the target lacks is skipped
with the capability's description, before any fixture runs; never passed. And the CLI's
``harness run`` hands the suite to pytest with the plugin."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from harness.run import SUITE, suite_args

FAKE_TARGET = '''
from harness.deploy.targets import TARGETS
from harness.targets import Capability, Target


class FakeTarget(Target):
    """Declares key-policy enforcement only; any call to AWS would be a test bug."""

    name = "fake"
    region = "us-east-1"
    accounts = {"shared-services": "1" * 12, "training": "2" * 12, "production": "3" * 12}
    capabilities = frozenset({Capability.ENFORCES_KEY_POLICY})

    def start(self): pass
    def stop(self): pass
    def session(self, account, role_arn=None, session_name="harness"): raise AssertionError
    def client_settings(self, service): raise AssertionError
    def subprocess_env(self, credentials): raise AssertionError


TARGETS["fake"] = "fake_target:FakeTarget"
'''

CHECKS = """
import pytest

from harness.targets import Capability


@pytest.mark.requires(Capability.ENFORCES_KEY_POLICY, Capability.RUNS_TRAINING)
def test_needs_training(deployment):
    raise AssertionError("must be skipped before the deployment fixture runs")


@pytest.mark.requires(Capability.ENFORCES_KEY_POLICY)
def test_has_key_policy(harness_target):
    assert harness_target.name == "fake"
"""


def test_missing_capability_skips_with_its_description(tmp_path: Path) -> None:
    (tmp_path / "fake_target.py").write_text(textwrap.dedent(FAKE_TARGET))
    (tmp_path / "test_checks.py").write_text(textwrap.dedent(CHECKS))
    junit = tmp_path / "junit.xml"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "fake_target",
            "-p",
            "harness.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "--target",
            "fake",
            "--junitxml",
            str(junit),
            str(tmp_path / "test_checks.py"),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}:{Path(__file__).resolve().parents[3]}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    cases = {c.get("name"): c for c in ElementTree.parse(junit).iter("testcase")}
    skipped = cases["test_needs_training"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == (
        "target fake lacks a capability: runs SageMaker training jobs"
    )
    assert cases["test_has_key_policy"].find("skipped") is None
    assert "harness summary" in completed.stdout


def test_run_hands_the_suite_to_pytest_with_the_plugin(tmp_path: Path) -> None:
    args = suite_args("local", "mlops", tmp_path, ["--keep"])
    assert args[0] == str(SUITE) and SUITE.is_dir()
    assert args[args.index("-p") + 1] == "harness.pytest_plugin"
    assert args[args.index("--junitxml") + 1] == str(tmp_path / "junit.xml")
    assert args[-1] == "--keep"
