"""Exit codes of a compliance run, through a real in-process pytest run of a tiny suite with
the plugin: 0 every promise proven, 1 a failure, 3 a promise unproven (0 with
``--allow-unproven``), pytest's own statuses kept; and where they are documented."""

from __future__ import annotations

import configparser
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from harness import run as harness_run
from harness.promises import EXIT_CODES
from tests.unit.harness.fake_suite import FakeRun, run_fake_suite

REPO = Path(__file__).resolve().parents[3]

# Promises 1-3 proven by a passing check each; what promise 4 gets varies per test.
PROVING = """
import pytest

from harness.targets import Capability


@pytest.mark.parametrize("n", [pytest.param(n, marks=pytest.mark.promise(n)) for n in (1, 2, 3)])
def test_promise(n, harness_target):
    assert harness_target.name == "fake"
"""
ENDPOINT_PASSES = """
@pytest.mark.promise(4)
def test_endpoint(harness_target):
    pass
"""
ENDPOINT_SKIPS = """
@pytest.mark.promise(4)
@pytest.mark.requires(Capability.RUNS_PIPELINE)
def test_endpoint(harness_target):
    raise AssertionError("skipped before it runs")
"""
ENDPOINT_FAILS = """
@pytest.mark.promise(4)
def test_endpoint(harness_target):
    raise AssertionError("endpoint is Failed")
"""
UNMARKED_FAILS = """
def test_unmarked(harness_target):
    raise AssertionError("no promise, still a failure")
"""
TEARDOWN_LEAVES = """
@pytest.fixture(scope="session")
def leaky(harness_target):
    yield
    raise AssertionError("teardown left bucket b behind")


def test_uses_leaky(leaky):
    pass
"""
SKIP_REASON = "target fake lacks a capability: runs CodePipeline pipelines"


Suite = Callable[..., FakeRun]  # (extra checks' source, *pytest options) -> the run


@pytest.fixture
def suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Suite:
    def run(source: str, *options: str) -> FakeRun:
        return run_fake_suite(tmp_path, monkeypatch, capsys, PROVING + source, *options)

    return run


def _verdicts(run: FakeRun) -> list[str]:
    return [run.properties()[f"promise-{n}"] for n in (1, 2, 3, 4)]


def _last_line(run: FakeRun) -> str:
    return run.output.rstrip().splitlines()[-2]  # above pytest's own "=== N passed ===" line


def test_every_promise_proven_exits_0(suite: Suite) -> None:
    run = suite(ENDPOINT_PASSES)
    assert run.code == 0, run.output
    assert _verdicts(run) == ["PROVEN"] * 4
    last = "PASS on target fake (exit 0): every promise PROVEN; 4 passed"
    assert _last_line(run) == last
    assert f"**{last}**" in run.summary_md


def test_a_failed_check_exits_1_and_fails_its_promise(suite: Suite) -> None:
    run = suite(ENDPOINT_FAILS)
    assert run.code == 1, run.output
    assert _verdicts(run) == ["PROVEN", "PROVEN", "PROVEN", "FAILED"]
    assert "FAIL on target fake (exit 1): FAILED: 4 endpoint; 1 failed, 3 passed" in run.output


@pytest.mark.parametrize("source", [UNMARKED_FAILS, TEARDOWN_LEAVES])
def test_a_failure_outside_any_promise_still_exits_1(suite: Suite, source: str) -> None:
    run = suite(ENDPOINT_PASSES + source, "--allow-unproven")
    assert run.code == 1, run.output
    assert _verdicts(run) == ["PROVEN"] * 4
    assert "FAIL on target fake (exit 1): every promise PROVEN" in run.output


def test_an_unproven_promise_exits_3_naming_why(suite: Suite) -> None:
    run = suite(ENDPOINT_SKIPS)
    assert run.code == 3, run.output
    assert _verdicts(run) == ["PROVEN", "PROVEN", "PROVEN", "UNPROVEN"]
    assert run.properties()["promise-4-why"] == SKIP_REASON
    assert re.search(rf"4 endpoint +UNPROVEN +1 skipped +{SKIP_REASON}", run.output)
    assert "UNPROVEN on target fake (exit 3): UNPROVEN: 4 endpoint" in run.output
    assert f"| UNPROVEN | 1 skipped | {SKIP_REASON} |" in run.summary_md


def test_allow_unproven_exits_0_and_says_which_stayed_unproven(suite: Suite) -> None:
    run = suite(ENDPOINT_SKIPS, "--allow-unproven")
    assert run.code == 0, run.output
    assert (
        "UNPROVEN on target fake (exit 0, unproven allowed by --allow-unproven): "
        "UNPROVEN: 4 endpoint; 3 passed, 1 skipped"
    ) in run.output


@pytest.mark.parametrize("options", [(), ("--allow-unproven",)])
def test_nothing_collected_stays_5(suite: Suite, options: tuple[str, ...]) -> None:
    run = suite(ENDPOINT_PASSES, "-k", "no_such_check", *options)
    assert run.code == 5, run.output
    assert _verdicts(run) == ["UNPROVEN"] * 4


def test_a_promise_mark_naming_no_promise_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = "import pytest\n\n@pytest.mark.promise(7)\ndef test_x(harness_target):\n    pass\n"
    run = run_fake_suite(tmp_path, monkeypatch, capsys, source)
    assert run.code == 4, run.output
    assert "test_x: promise(7) names no promise; use one of 1, 2, 3, 4" in run.output


@pytest.mark.parametrize("command", [harness_run.run_main, harness_run.check_main])
def test_harness_passes_allow_unproven_on_and_returns_pytests_code(
    command: Callable[[list[str]], int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(harness_run.pytest, "main", lambda args: seen.append(args) or 3)
    accounts = "shared-services=111111111111,training=222222222222,production=333333333333"
    monkeypatch.setenv("HARNESS_AWS_ACCOUNTS", accounts)  # validated before pytest starts
    assert command(["--target", "aws", "--allow-unproven"]) == 3
    assert "--allow-unproven" in seen[0]


@pytest.mark.parametrize("command", [harness_run.run_main, harness_run.check_main])
def test_help_lists_the_exit_codes(
    command: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        command(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for code, meaning in EXIT_CODES:
        assert f"{code} {meaning.replace('`', '')}" in text


def test_readme_has_the_exit_code_table() -> None:
    readme = (REPO / "README.md").read_text()
    table = "".join(f"| {code} | {meaning} |\n" for code, meaning in EXIT_CODES)
    assert "| code | meaning |\n|---|---|\n" + table in readme


def _commands(env: str) -> str:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini")
    return tox[f"testenv:{env}"]["commands"].replace("\\\n", " ")


def test_only_tox_localstack_allows_unproven_promises() -> None:
    suite_line = next(
        line for line in _commands("localstack").splitlines() if "harness.pytest_plugin" in line
    )
    assert suite_line.split()[:4] == ["pytest", "-p", "harness.pytest_plugin", "tests/integration"]
    assert "--allow-unproven" in suite_line.split()
    for env in ("local", "run", "integration"):
        assert "--allow-unproven" not in _commands(env), env
