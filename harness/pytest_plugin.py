"""The harness's pytest plugin: the target, the deployment, the pipeline run and principals as
session fixtures, the ``requires`` and ``promise`` markers, the run's summary and reports, and
its exit code (0 every promise proven, 1 a failure, 3 a promise unproven; harness.promises).

Loaded with ``-p harness.pytest_plugin`` (not as an installed pytest11 entry point: that would
import ``harness`` from site-packages before pytest puts the checkout on ``sys.path``, in every
session of every env), so ``pytest -p harness.pytest_plugin tests/integration --target local``
and ``harness run`` run the very same suite. Teardown runs
in the deployment's finalizer even when deployment or checks fail, unless ``--keep``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.junitxml import xml_key  # the JUnit writer; its fixture would be too late

from harness.access import deployment_allowlist
from harness.deploy import Deployment, Settings, adopt, deploy, make_target, teardown
from harness.deploy.deploy import template_path
from harness.deploy.pipeline import PipelineRun, follow_execution
from harness.deploy.principals import PrincipalSessions
from harness.deploy.targets import TARGETS
from harness.evidence.explain import HasDecisionLog
from harness.policy.access_matrix import Allowlist
from harness.promises import ALLOW_UNPROVEN_HELP, NUMBERS, exit_code
from harness.report import CheckResult, RunRecord, junit_properties, summary_text, write_reports
from harness.targets import Target
from harness.templates import ACCOUNT_TEMPLATES, load_template

RECORD = pytest.StashKey[RunRecord]()
STARTED = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "compliance harness")
    group.addoption(
        "--target", default="local", choices=sorted(TARGETS), help="where to run (default local)"
    )
    group.addoption("--keep", action="store_true", help="leave the deployment in place")
    group.addoption(
        "--reject-approval",
        action="store_true",
        help="reject the manual approval: the checks then expect no production deployment",
    )
    group.addoption(
        "--prefix",
        default=None,
        help="name prefix of every resource (default: the target's run id, else mlops)",
    )
    group.addoption(
        "--templates",
        type=Path,
        help="folder with replacement account templates (shared-services.yaml, ...), e.g. a "
        "faulty variant the checks must catch",
    )
    group.addoption(
        "--reuse-deployment",
        action="store_true",
        help="check the deployment already on the target (harness deploy) instead of making "
        "one; it is left in place",
    )
    group.addoption(
        "--pipeline-timeout", type=float, default=300.0, help="seconds for one pipeline run"
    )
    group.addoption(
        "--harness-report", type=Path, help="write the summary, matrix and decision log here"
    )
    group.addoption("--allow-unproven", action="store_true", help=ALLOW_UNPROVEN_HELP)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires(*capabilities): skip, with the capability's description, on a target "
        "that lacks any of them",
    )
    config.addinivalue_line(
        "markers",
        "promise(number): the promise of DESIGN.md section 1 (1-4) a check gives evidence for",
    )
    config.stash[RECORD] = RunRecord(
        target=config.getoption("target"), allow_unproven=config.getoption("allow_unproven")
    )
    config.stash[STARTED] = time.monotonic()


def progress_writer(config: pytest.Config) -> Callable[[str], None]:
    """Print a timestamped line past pytest's output capture (long steps show progress)."""
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def write(message: str) -> None:
        line = f"[harness {time.monotonic() - config.stash[STARTED]:6.1f}s] {message}"
        if terminal is None or capture is None:
            return
        with capture.global_and_fixture_disabled():
            terminal.write_line(line)

    return write


def _promise(item: pytest.Item) -> int | None:
    """The promise a check gives evidence for, from its closest ``promise`` mark."""
    mark = item.get_closest_marker("promise")
    return None if mark is None else mark.args[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a ``promise`` mark that names no promise: its evidence would count for none."""
    for item in items:
        mark = item.get_closest_marker("promise")
        if mark is not None and (len(mark.args) != 1 or mark.args[0] not in NUMBERS):
            raise pytest.UsageError(
                f"{item.nodeid}: promise({', '.join(map(repr, mark.args))}) names no promise; "
                "use one of " + ", ".join(map(str, sorted(NUMBERS)))
            )


# fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def harness_record(pytestconfig: pytest.Config) -> RunRecord:
    """The run's record, for checks that add probes or the live access matrix."""
    return pytestconfig.stash[RECORD]


TARGET = pytest.StashKey[Target]()
START_FAILURE = pytest.StashKey[str]()


def started_target(config: pytest.Config) -> Target:
    """The run's target, started on first use and stopped when pytest unconfigures (after
    the deployment's teardown). Capabilities some targets measure at start are then known
    before any check is skipped or run."""
    if START_FAILURE in config.stash:  # tried once: every check fails with the same reason
        pytest.fail(config.stash[START_FAILURE], pytrace=False)
    if TARGET not in config.stash:
        # Its own temporary folder (TLS keys live there, never in the reports); the decision
        # log is copied into the reports before the target stops.
        target = make_target(config.getoption("target"))
        progress_writer(config)(f"starting target {target.name}")
        began = time.monotonic()
        try:
            target.start()
        except Exception as error:
            config.stash[START_FAILURE] = f"target {target.name} did not start: {error}"
            raise
        config.stash[RECORD].phases["target start"] = time.monotonic() - began
        config.add_cleanup(target.stop)
        config.stash[TARGET] = target
        if isinstance(target, HasDecisionLog):
            config.stash[RECORD].decision_log = Path(target.decision_log.path)
    return config.stash[TARGET]


@pytest.fixture(scope="session")
def harness_target(pytestconfig: pytest.Config) -> Target:
    """The started target; its decision log (where it keeps one) goes into the record."""
    return started_target(pytestconfig)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a check marked ``requires(...)`` when the target lacks a capability, naming it.

    Decided from the target's declared capabilities before any fixture (deployment, the
    pipeline run) is set up for the check.
    """
    needed = [c for mark in item.iter_markers("requires") for c in mark.args]
    if not needed:
        return
    target = started_target(item.config)
    missing = [c for c in needed if not target.has(c)]
    if missing:
        pytest.skip(
            f"target {target.name} lacks a capability: "
            + "; ".join(capability.description for capability in missing)
        )


@pytest.fixture(scope="session")
def harness_settings(pytestconfig: pytest.Config, harness_target: Target) -> Settings:
    return Settings.for_target(harness_target, pytestconfig.getoption("prefix"))


@pytest.fixture(scope="session")
def deployment(
    pytestconfig: pytest.Config, harness_target: Target, harness_settings: Settings
) -> Iterator[Deployment]:
    """A, B and C deployed and wired, data published, canaries made, the source pushed.

    Torn down afterwards (also when deployment itself failed) unless ``--keep``; anything
    left behind fails the run.
    """
    progress = progress_writer(pytestconfig)
    record = pytestconfig.stash[RECORD]
    if pytestconfig.getoption("reuse_deployment"):
        progress(f"checking the deployment {harness_settings.prefix} already on the target")
        yield adopt(harness_target, harness_settings)
        return
    templates = pytestconfig.getoption("templates")
    unsupported = {
        account: types
        for account in ACCOUNT_TEMPLATES
        if (
            types := harness_target.unsupported_resource_types(
                load_template(template_path(account, templates))
            )
        )
    }
    if unsupported:
        pytest.skip(
            f"target {harness_target.name} cannot deploy the infra: "
            + "; ".join(f"{a} has {', '.join(t)}" for a, t in unsupported.items())
        )
    began = time.monotonic()
    try:
        deployed = deploy(
            harness_target,
            harness_settings,
            progress,
            templates=templates,
        )
    except BaseException:
        _teardown(pytestconfig, harness_target, harness_settings)
        raise
    record.phases["deploy"] = time.monotonic() - began
    yield deployed
    _teardown(pytestconfig, harness_target, harness_settings)


def _teardown(config: pytest.Config, target: Target, settings: Settings) -> None:
    progress = progress_writer(config)
    if config.getoption("keep"):
        progress("--keep: leaving the deployment in place (harness destroy removes it)")
        return
    began = time.monotonic()
    report = teardown(target, settings, progress)
    record = config.stash[RECORD]
    record.phases["teardown"] = time.monotonic() - began
    record.leftovers, record.teardown_errors = report.left, report.errors
    if not report.clean:
        raise AssertionError(
            "teardown left resources behind: "
            + "; ".join(report.left + report.errors)
            + " — run `harness destroy` and check those resources by hand"
        )


@pytest.fixture(scope="session")
def pipeline_run(
    pytestconfig: pytest.Config, harness_target: Target, deployment: Deployment
) -> PipelineRun:
    """The execution the push started, followed to its end; the approval answered."""
    record = pytestconfig.stash[RECORD]
    began = time.monotonic()
    codepipeline = harness_target.client("codepipeline", harness_target.session("shared-services"))
    run = follow_execution(
        codepipeline,
        deployment,
        approve=not pytestconfig.getoption("reject_approval"),
        timeout_s=pytestconfig.getoption("pipeline_timeout"),
        progress=progress_writer(pytestconfig),
    )
    record.phases["pipeline"] = time.monotonic() - began
    record.pipeline_stages = run.stage_seconds()
    return run


@pytest.fixture(scope="session")
def approval_expected(pytestconfig: pytest.Config) -> bool:
    """Whether the harness approves the production deployment on this run."""
    return not pytestconfig.getoption("reject_approval")


@pytest.fixture(scope="session")
def allowlist(harness_settings: Settings, deployment: Deployment) -> Allowlist:
    """``policies/access/allowlist.yaml`` bound to the target's accounts (an outsider the
    target lacks keeps the rendered default, and its canary is then skipped), the deployers of
    this deployment and the prefix."""
    return deployment_allowlist(
        harness_settings.accounts, deployment.deployer_arns, harness_settings.prefix
    )


@pytest.fixture(scope="session")
def principals(harness_target: Target, deployment: Deployment) -> PrincipalSessions:
    """Sessions by principal ARN, each obtained as that principal really gets credentials."""
    return PrincipalSessions(harness_target, deployment.deployer_arns)


# recording and reporting --------------------------------------------------------------------
def _message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        return str(crash.message) if crash is not None else str(report.longrepr)
    return ""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if "harness_target" not in getattr(item, "fixturenames", ()):
        return  # not a compliance check (the plugin is loaded in every session of the env)
    record = item.config.stash[RECORD]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        result = "error" if report.when == "setup" and report.failed else report.outcome
        record.checks.append(
            CheckResult(
                item.nodeid, result, _message(report), report.duration, promise=_promise(item)
            )
        )
    elif report.when == "teardown" and report.failed:
        # Fails the run but no promise: the session's teardown (the deployment's) runs after
        # whichever check happens to be last.
        record.checks.append(CheckResult(item.nodeid + "::teardown", "error", _message(report)))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if config.getoption("collectonly"):
        return
    terminalreporter.section("harness summary")
    for line in summary_text(config.stash[RECORD]).splitlines():
        terminalreporter.write_line(line)


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    config.stash[RECORD].phases["collection"] = time.monotonic() - config.stash[STARTED]


def _close_the_clock(config: pytest.Config, record: RunRecord) -> None:
    """The checks' phase is what the other phases leave of the run's clock; phases are put in
    the order they happened, so they add up to the run."""
    measured = sum(record.phases.values())
    record.phases["checks"] = max(time.monotonic() - config.stash[STARTED] - measured, 0.0)
    order = ("collection", "target start", "deploy", "pipeline", "checks", "teardown")
    record.phases = {name: record.phases[name] for name in order if name in record.phases}


@pytest.hookimpl(tryfirst=True)  # before the JUnit writer's, so the verdicts are in its file
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Settle the exit code from the verdicts, then write the reports that show it."""
    config = session.config
    if config.getoption("collectonly"):
        return  # only listing the checks: nothing was meant to be proven
    record = config.stash[RECORD]
    _close_the_clock(config, record)
    unproven = bool(record.unproven())
    record.exit_status = exit_code(exitstatus, record.ok, unproven, record.allow_unproven)
    session.exitstatus = record.exit_status
    junit = config.stash.get(xml_key, None)
    if junit is not None:
        for name, value in junit_properties(record):
            junit.add_global_property(name, value)
    directory = config.getoption("harness_report")
    if directory is not None:
        write_reports(record, directory)
