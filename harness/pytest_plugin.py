"""The harness's pytest plugin: the target, the deployment, the pipeline run and principals as
session fixtures, the ``requires`` and ``promise`` markers, the run's summary and reports, and
its exit code (0 every promise proven, 1 a failure, 3 a promise unproven; harness.promises).

Loaded with ``-p harness.pytest_plugin`` (not as an installed pytest11 entry point: that would
import ``harness`` from site-packages before pytest puts the checkout on ``sys.path``, in every
session of every env), so ``pytest -p harness.pytest_plugin tests/integration --target local``
and ``harness run`` run the very same suite. Teardown runs
in the deployment's finalizer even when deployment or checks fail, unless ``--keep``.

Split across pytest-xdist workers (``-n 2``), each worker deploys, checks and tears down its
own copy under its own prefix, and the controller alone judges the promises on every check and
writes the reports (``harness.workers``).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.junitxml import xml_key  # the JUnit writer; its fixture would be too late

from harness import heap
from harness.access import deployment_allowlist
from harness.deploy import Deployment, Settings, adopt, deploy, make_target, teardown
from harness.deploy.deploy import template_path
from harness.deploy.guardrails import (
    Scp,
    attach_scps,
    read_scp,
)
from harness.deploy.pipeline import PipelineRun, follow_execution
from harness.deploy.principals import PrincipalSessions
from harness.deploy.settings import DEFAULT_PREFIX
from harness.evidence import StatementCited
from harness.evidence.explain import HasDecisionLog
from harness.interrupts import Interrupts
from harness.locate import StatementLocator
from harness.policy.access_matrix import Allowlist
from harness.promises import ALLOW_UNPROVEN_HELP, NUMBERS, exit_code
from harness.report import (
    FORMATS,
    CheckResult,
    RunRecord,
    WorkerRun,
    junit_properties,
    summary_text,
)
from harness.report_writer import write_reports
from harness.run_sarif import Locate, write_run_sarif
from harness.targets import Target
from harness.targets.registry import TARGETS
from harness.templates import ACCOUNT_TEMPLATES, TemplateError, load_template
from harness.validation import Inputs, deployed_templates, problems, target_environ
from harness.workers import (
    CHECK,
    PART,
    SHARES,
    alongside,
    evidence_folder,
    merge,
    part,
    planned_workers,
    share_scheduling,
    split_problems,
    worker_id,
    worker_prefix,
)

RECORD = pytest.StashKey[RunRecord]()
INTERRUPTS = pytest.StashKey[Interrupts]()
PENDING_TEARDOWN = pytest.StashKey[Callable[[], None]]()
STARTED = pytest.StashKey[float]()
SETTINGS = pytest.StashKey[Settings]()
PARTS = pytest.StashKey[dict[str, str | None]]()  # the controller's: worker -> its part
RUNNING = pytest.StashKey[pytest.Item]()  # the check being run


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
        "--scp",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="an SCP (JSON) to attach to the training and production accounts before deploy "
        "(target local, whose accounts then form an organization); repeatable",
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
    group.addoption(
        "--harness-formats",
        type=lambda text: tuple(text.split(",")),
        default=FORMATS,
        help=f"report formats written there, comma-separated (default {','.join(FORMATS)})",
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
    _refuse_bad_inputs(config)
    _refuse_a_split_it_cannot_make(config)
    config.stash[SCPS] = _guardrails(config)
    config.stash[RECORD] = RunRecord(
        target=config.getoption("target"), allow_unproven=config.getoption("allow_unproven")
    )
    config.stash[PARTS] = {}
    config.stash[STARTED] = time.monotonic()
    interrupts = Interrupts()
    if interrupts.install():
        config.add_cleanup(interrupts.restore)  # the first cleanup added runs last
    config.stash[INTERRUPTS] = interrupts
    config.add_cleanup(heap.defer_full_collections())
    if worker_id(config) is None:
        workers = planned_workers(config.option)
        shares = workers if config.getoption("dist", "no") == "load" else 0
        judge = Judge(config.stash[RECORD], config.stash[PARTS], interrupts, workers, shares)
        config.pluginmanager.register(judge, "harness-judge")


def _enter(config: pytest.Config, phase: str) -> None:
    """The run is now in ``phase`` (what an interruption names); a progress line says so, and
    what the phases before it built is settled out of the garbage collector's way."""
    interrupts = config.stash[INTERRUPTS]
    if interrupts.phase != phase:
        interrupts.phase = phase
        progress_writer(config)(f"phase: {phase}")
        heap.settle()


def _refuse_a_split_it_cannot_make(config: pytest.Config) -> None:
    """Under ``-n``, before any worker starts: every worker's prefix must fit the templates'
    rule, and nothing may make two workers share a deployment (usage error, exit 4)."""
    workers = planned_workers(config.option)
    if not workers:
        return
    target = config.getoption("target")
    found = split_problems(
        config.getoption("prefix") or DEFAULT_PREFIX,
        workers,
        reuse=config.getoption("reuse_deployment"),
        environ=target_environ(target),
        target=target,
    )
    if found:
        raise pytest.UsageError("\n".join(problem.line("harness") for problem in found))


def _refuse_bad_inputs(config: pytest.Config) -> None:
    """The same validation as ``harness run``'s, before any target starts (pytest's usage
    error, exit 4)."""
    inputs = Inputs(
        target=config.getoption("target"),
        scps=tuple(config.getoption("scp")),
        prefix=config.getoption("prefix"),
        report=config.getoption("harness_report"),
        formats=config.getoption("harness_formats"),
        templates=None
        if config.getoption("reuse_deployment")
        else deployed_templates(config.getoption("templates")),
        environ=target_environ(config.getoption("target")),
    )
    found = problems(inputs)
    if found:
        raise pytest.UsageError("\n".join(problem.line("harness") for problem in found))


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
            terminal.flush()  # seen as it happens in a CI log (a pipe), not at the end

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
SCPS = pytest.StashKey[list[Scp]]()


def _guardrails(config: pytest.Config) -> list[Scp]:
    """The ``--scp`` files, read and checked before anything starts."""
    files = config.getoption("scp")
    if files and config.getoption("reuse_deployment"):
        raise pytest.UsageError("--scp is attached before deploy; it cannot join a reused one")
    return [read_scp(path) for path in files]  # checked with the other inputs


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
        options = {"organization": True} if config.stash[SCPS] else {}
        _enter(config, "target start")
        began = time.monotonic()  # loading the target's module (moto, for local) included
        target = make_target(config.getoption("target"), **options)
        progress_writer(config)(f"starting target {target.name}")
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
        config.stash[RECORD].target_log = getattr(target, "log_path", None)
    return config.stash[TARGET]


@pytest.fixture(scope="session")
def harness_target(pytestconfig: pytest.Config) -> Target:
    """The started target; its decision log (where it keeps one) goes into the record."""
    return started_target(pytestconfig)


def checks_here(config: pytest.Config) -> list[pytest.Item]:
    """The checks this process runs, for a fixture that prepares their work up front (the
    prober's requests): every check alone, a worker's share under xdist's default scheduling,
    else (another ``--dist`` mode) every check still, which is then more than it runs."""
    running = config.stash[RUNNING]
    shares = int(getattr(config, "workerinput", {}).get(SHARES, 0))
    return alongside(running.session.items, running, shares)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a check marked ``requires(...)`` when the target lacks a capability, naming it.

    Decided from the target's declared capabilities before any fixture (deployment, the
    pipeline run) is set up for the check. First, an interrupt the run lost unwinds it.
    """
    item.config.stash[INTERRUPTS].unwind()
    item.config.stash[RUNNING] = item
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


def pytest_runtest_call(item: pytest.Item) -> None:
    """A check's own code runs: the run is in its checks phase (its fixtures are set up)."""
    if "harness_target" in getattr(item, "fixturenames", ()):
        _enter(item.config, "checks")


@pytest.fixture(scope="session")
def harness_settings(pytestconfig: pytest.Config, harness_target: Target) -> Settings:
    """The run's prefix, region and accounts; a worker's prefix is its own (``-n``)."""
    settings = Settings.for_target(harness_target, pytestconfig.getoption("prefix"))
    worker = worker_id(pytestconfig)
    if worker is not None:
        settings = dataclasses.replace(settings, prefix=worker_prefix(settings.prefix, worker))
    pytestconfig.stash[SETTINGS] = settings  # the reports locate statements with it
    return settings


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
    _enter(pytestconfig, "deploy")
    try:
        scps = pytestconfig.stash[SCPS]
        if scps:
            ids = attach_scps(harness_target, scps)
            progress(f"SCP {', '.join(ids)} attached to the training and production accounts")
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
    _enter(pytestconfig, "checks")
    # Interrupted, pytest tears session fixtures down only after the reports are written;
    # the session's end runs what is pending first (see pytest_sessionfinish).
    pytestconfig.stash[PENDING_TEARDOWN] = lambda: _teardown(
        pytestconfig, harness_target, harness_settings
    )
    yield deployed
    _pending_teardown(pytestconfig)
    if record.leftovers or record.teardown_errors:
        raise AssertionError(
            "teardown left resources behind: "
            + "; ".join(record.leftovers + record.teardown_errors)
            + " — run `harness destroy` and check those resources by hand"
        )


def _pending_teardown(config: pytest.Config) -> None:
    """Run the deployment's teardown if it has not run yet."""
    pending = config.stash.get(PENDING_TEARDOWN, None)
    if pending is not None:
        del config.stash[PENDING_TEARDOWN]
        pending()


def _teardown(config: pytest.Config, target: Target, settings: Settings) -> None:
    """Tear the deployment down, signals held off meanwhile; what is left goes into the
    record (which fails the run)."""
    progress = progress_writer(config)
    if config.getoption("keep"):
        progress("--keep: leaving the deployment in place (harness destroy removes it)")
        return
    began = time.monotonic()
    progress("phase: teardown")
    heap.settle()
    with config.stash[INTERRUPTS].shielded("teardown"):
        report = teardown(target, settings, progress)
    record = config.stash[RECORD]
    record.phases["teardown"] = time.monotonic() - began
    record.leftovers, record.teardown_errors = report.left, report.errors


@pytest.fixture(scope="session")
def pipeline_run(
    pytestconfig: pytest.Config, harness_target: Target, deployment: Deployment
) -> PipelineRun:
    """The execution the push started, followed to its end; the approval answered."""
    record = pytestconfig.stash[RECORD]
    began = time.monotonic()
    _enter(pytestconfig, "pipeline")
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
    _enter(pytestconfig, "checks")
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
class CheckFailed(pytest.fail.Exception):
    """A check's failure that names the statements at fault and the fix, so the reports can
    show them apart and locate them in the templates (SARIF)."""

    def __init__(self, message: str, at_fault: tuple[StatementCited, ...], fix: str) -> None:
        super().__init__(message, pytrace=False)
        self.at_fault, self.fix = at_fault, fix


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
    check = None
    if report.when == "call" or (report.when == "setup" and not report.passed):
        result = "error" if report.when == "setup" and report.failed else report.outcome
        failure = call.excinfo.value if call.excinfo is not None else None
        cited = failure if isinstance(failure, CheckFailed) else None
        file, line, _ = item.location
        check = CheckResult(
            item.nodeid,
            result,
            _message(report),
            report.duration,
            promise=_promise(item),
            at_fault=cited.at_fault if cited else (),
            fix=cited.fix if cited else "",
            source=(file, (line or 0) + 1),
        )
    elif report.when == "teardown" and report.failed:
        # Fails the run but no promise: the session's teardown (the deployment's) runs after
        # whichever check happens to be last.
        check = CheckResult(item.nodeid + "::teardown", "error", _message(report))
    if check is not None:  # recorded where the report is logged: the xdist controller, too
        setattr(report, CHECK, check.as_json())


class Judge:
    """The process that judges the promises (alone, or the xdist controller): it records the
    check each report carries and, from xdist, each worker's part."""

    def __init__(
        self,
        record: RunRecord,
        parts: dict[str, str | None],
        interrupts: Interrupts,
        workers: int = 0,
        shares: int = 0,
    ) -> None:
        self.record, self.parts, self.interrupts = record, parts, interrupts
        self.split, self.shares = bool(workers), shares

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        check = getattr(report, CHECK, None)
        if check is not None:
            self.record.checks.append(CheckResult.from_json(check))
        elif report.when == "???" and report.failed:  # xdist's report of a crashed worker
            self.record.checks.append(CheckResult(report.nodeid, "error", _message(report)))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self) -> Iterator[object]:
        """A signal is passed on to the workers, which tear their copies down and send their
        parts; the controller keeps receiving them meanwhile instead of unwinding at once
        (xdist would then stop the workers before their teardown ends)."""
        if not self.split:
            return (yield)
        with self.interrupts.shielded("workers"):
            return (yield)

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """Under xdist's default ``--dist load``, the checks dealt in fixed even shares (a
        worker then makes its share's requests together; ``harness.workers``)."""
        return share_scheduling(config, log) if self.shares else None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[SHARES] = self.shares  # xdist tells its workers no --dist mode

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodeready(self, node: Any) -> None:
        self.parts.setdefault(node.gateway.id)  # None until its part comes
        pid = _worker_pid(node)
        if pid is not None:
            self.interrupts.adopt(pid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        self.parts[node.gateway.id] = getattr(node, "workeroutput", {}).get(PART)
        pid = _worker_pid(node)
        if pid is not None:
            self.interrupts.disown(pid)


def _worker_pid(node: Any) -> int | None:
    """The process of an xdist worker started on this machine (execnet's popen gateway keeps
    it; xdist tells no pid), else None: that worker then stops only on a signal of its own."""
    popen = getattr(getattr(node.gateway, "_io", None), "popen", None)
    return getattr(popen, "pid", None)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if config.getoption("collectonly"):
        return
    terminalreporter.section("harness summary")
    for line in summary_text(config.stash[RECORD]).splitlines():
        terminalreporter.write_line(line)


@pytest.hookimpl(tryfirst=True)  # before the terminal reporter formats the traceback
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Leave out of the interrupt's traceback the frames it caught on an instruction that has no
    line (CPython 3.11-3.13: a ``finally`` or ``with`` block's cleanup, for one). The signal
    handler raises wherever the main thread is, and pytest's formatter failed on such a frame
    with a TypeError, so a run that had torn down and reported exit 130 exited 1 (the SIGINT
    drill at deploy, under load)."""
    lineless: set[int] = set()
    raw = excinfo.tb
    while raw is not None:
        if raw.tb_lineno is None:  # typeshed says int; CPython says None here
            lineless.add(id(raw.tb_frame))
        raw = raw.tb_next
    if lineless:
        excinfo.traceback = excinfo.traceback.filter(
            lambda entry: id(entry.frame.raw) not in lineless
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    """From here on, the interrupt the run lost is not printed as an unraisable exception with
    its traceback (the next check raises it again). Installed after every plugin's configure,
    so it sees first what pytest's own hook would be given."""
    config = session.config
    interrupts, printing = config.stash[INTERRUPTS], sys.unraisablehook

    def unless_lost(unraisable: Any) -> None:
        if not interrupts.lost(unraisable):
            printing(unraisable)

    sys.unraisablehook = unless_lost
    config.add_cleanup(lambda: setattr(sys, "unraisablehook", printing))


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
    record.interruption = config.stash[INTERRUPTS].received
    worker = worker_id(config)
    if record.interruption is not None or worker is not None:  # a part tells its teardown
        _pending_teardown(config)
    if worker is not None:  # the controller judges and reports, from every worker's part
        _close_the_clock(config, record)
        config.workeroutput[PART] = part(record, _worker_run(config, worker))
        return
    merge(record, config.stash[PARTS])
    _close_the_clock(config, record)
    unproven = bool(record.unproven())
    record.exit_status = exit_code(exitstatus, record.ok, unproven, record.allow_unproven)
    if record.interruption is not None:
        record.exit_status = record.interruption.exit_code
    session.exitstatus = record.exit_status
    junit = config.stash.get(xml_key, None)
    if junit is not None:
        for name, value in junit_properties(record):
            junit.add_global_property(name, value)
    directory = config.getoption("harness_report")
    if directory is not None:
        formats = config.getoption("harness_formats")
        write_reports(record, directory, formats)
        if "sarif" in formats:
            sarif = directory / "results.sarif"
            write_run_sarif(record.checks, _locate(config), sarif, config.rootpath)


def _worker_run(config: pytest.Config, worker: str) -> WorkerRun:
    """This worker's deployment, its evidence copied into its own folder of the report."""
    record = config.stash[RECORD]
    settings = config.stash.get(SETTINGS, None) or Settings(
        worker_prefix(config.getoption("prefix") or DEFAULT_PREFIX, worker), "", {}
    )
    target = config.stash.get(TARGET, None)
    endpoints = tuple(
        str(getattr(target, name))
        for name in ("endpoint_url", "http_endpoint_url")
        if target is not None and hasattr(type(target), name)
    )
    logs: dict[str, Path | None] = {"decisions.jsonl": None, "target.log": None}
    directory = config.getoption("harness_report")
    if directory is not None:
        written = write_reports(record, evidence_folder(directory, worker), formats=())
        logs.update({path.name: path for path in written})
    return WorkerRun(
        worker,
        settings.prefix,
        settings.region,
        dict(settings.accounts),
        endpoints,
        record.phases,
        logs["decisions.jsonl"],
        logs["target.log"],
    )


def _locate(config: pytest.Config) -> Locate | None:
    """Where the deployment's statements were written, when a deployment was set up (under
    ``-n``, each worker's: a statement's ARNs carry the prefix of the worker that cited it)."""
    record = config.stash[RECORD]
    deployed = [config.stash[SETTINGS]] if SETTINGS in config.stash else []
    deployed += [Settings(run.prefix, run.region, run.accounts) for run in record.workers]
    if not deployed or not any(check.at_fault for check in record.checks):
        return None
    templates = config.getoption("templates")
    paths = {account: template_path(account, templates) for account in ACCOUNT_TEMPLATES}
    try:
        locators = [
            StatementLocator(paths, s.accounts, s.prefix, s.region).locate for s in deployed
        ]
    except (TemplateError, KeyError, ValueError) as error:  # the checks' own files then
        progress_writer(config)(f"results.sarif: cannot locate statements: {error}")
        return None
    return lambda statement: next(
        (found for locate in locators if (found := locate(statement)) is not None), None
    )
