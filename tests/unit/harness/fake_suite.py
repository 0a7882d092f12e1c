"""A tiny compliance suite run in-process with the harness plugin against a fake target, so the
plugin's skips, verdicts, reports and exit codes are tested without deploying anything."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import boto3
import pytest

from harness.targets import Capability, Target
from harness.targets.registry import TARGETS


class FakeTarget(Target):
    """Declares key-policy enforcement only; any call to AWS would be a test bug."""

    name = "fake"
    region = "us-east-1"
    accounts = MappingProxyType(
        {"shared-services": "1" * 12, "training": "2" * 12, "production": "3" * 12}
    )
    capabilities = frozenset({Capability.ENFORCES_KEY_POLICY})

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def session(
        self, account: str, role_arn: str | None = None, session_name: str = "harness"
    ) -> boto3.Session:
        raise AssertionError("the fake target makes no sessions")

    def client_settings(self, service: str) -> dict[str, Any]:
        raise AssertionError("the fake target has no clients")


@dataclass
class FakeRun:
    code: int
    output: str  # the terminal output (stdout, then stderr), harness summary included
    junit: ElementTree.Element
    summary_md: str

    def properties(self) -> dict[str, str]:
        """The JUnit file's test-suite properties."""
        return {p.get("name", ""): p.get("value", "") for p in self.junit.iter("property")}

    def skip_messages(self) -> dict[str, str]:
        return {
            case.get("name", ""): skipped.get("message", "")
            for case in self.junit.iter("testcase")
            if (skipped := case.find("skipped")) is not None
        }


def run_fake_suite(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    checks: str,
    *options: str,
) -> FakeRun:
    """Run ``checks`` (a test module's source) with the plugin on target ``fake``."""
    monkeypatch.setitem(TARGETS, "fake", f"{__name__}:FakeTarget")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    suite = tmp_path / f"test_{tmp_path.name}.py"  # one module name per run: none is reused
    suite.write_text(textwrap.dedent(checks))
    report = tmp_path / "report"
    code = pytest.main(
        [
            str(suite),
            "-p",
            "harness.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "--import-mode=importlib",
            "--target",
            "fake",
            "--junitxml",
            str(report / "junit.xml"),
            "--harness-report",
            str(report),
            *options,
        ]
    )
    summary, junit = report / "summary.md", report / "junit.xml"
    captured = capsys.readouterr()
    return FakeRun(
        int(code),
        captured.out + captured.err,
        # a run refused at start writes none
        ElementTree.parse(junit).getroot() if junit.exists() else ElementTree.Element("none"),
        summary.read_text() if summary.exists() else "",
    )
