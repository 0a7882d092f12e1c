"""The plugin's ``requires`` marker: a check needing a capability the target lacks is skipped
with the capability's description, before any fixture runs; never passed. And the CLI's
``harness run`` hands the suite to pytest with the plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.run import SUITE, suite_args
from harness.validation import Inputs, problems
from tests.unit.harness.fake_suite import run_fake_suite

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


def test_missing_capability_skips_with_its_description(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_fake_suite(tmp_path, monkeypatch, capsys, CHECKS, "--allow-unproven")
    assert run.code == 0, run.output
    assert run.skip_messages() == {
        "test_needs_training": "target fake lacks a capability: runs SageMaker training jobs"
    }
    assert "harness summary" in run.output


def test_run_hands_the_suite_to_pytest_with_the_plugin(tmp_path: Path) -> None:
    args = suite_args("local", "mlops", tmp_path, ["--keep"])
    assert args[0] == str(SUITE) and SUITE.is_dir()
    assert args[args.index("-p") + 1] == "harness.pytest_plugin"
    assert args[args.index("--junitxml") + 1] == str(tmp_path / "junit.xml")
    assert args[-1] == "--keep"


def test_the_chosen_report_formats_are_written_and_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ("--allow-unproven", "--harness-formats", "html,json")
    run = run_fake_suite(tmp_path, monkeypatch, capsys, CHECKS, *options)
    assert run.code == 0, run.output
    written = {path.name for path in (tmp_path / "report").iterdir()}
    assert {"report.html", "access-matrix.json", "probes.json"} <= written
    assert not {"summary.md", "results.sarif"} & written
    without_junit = suite_args("local", None, tmp_path, [], ("html",))
    assert "--junitxml" not in without_junit
    assert without_junit[without_junit.index("--harness-formats") + 1] == "html"


def test_an_unknown_report_format_is_refused_by_the_plugins_input_rules() -> None:
    [problem] = problems(Inputs(formats=("html", "pdf")))
    assert problem.line("harness") == (
        "harness: report formats 'html,pdf': must be one or more of junit, md, json, html, sarif"
    )


def test_a_split_whose_worker_prefix_breaks_the_rule_is_refused_before_any_worker_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    checks = "def test_nothing():\n    pass\n"
    prefix = "a" * 17  # fits alone; with -gw1 added it is 21 characters
    run = run_fake_suite(tmp_path, monkeypatch, capsys, checks, "-n", "2", "--prefix", prefix)
    assert run.code == pytest.ExitCode.USAGE_ERROR
    assert f"--prefix '{prefix}' with -n 2 (pytest-xdist): worker prefix '{prefix}-gw1'" in (
        run.output
    )
    assert not (tmp_path / "report").exists()  # refused before anything started
