"""``harness run``, ``check``, ``deploy`` and ``destroy``: the product's main commands.

``run`` and ``check`` run the compliance suite (``tests/integration``) through pytest with the
harness plugin, so there is one implementation of every check; the plugin prints the summary
and writes the reports. ``deploy`` and ``destroy`` expose the deployment on its own, for
targets whose state outlives the process (real accounts).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness import config
from harness.allowlist import allowlist_path
from harness.deploy import TARGETS, DeployError, Settings, deploy, make_target, teardown
from harness.exit_codes import exit_codes_help
from harness.promises import ALLOW_UNPROVEN_HELP
from harness.report import FORMATS
from harness.targets.local_environment import CA_VARIABLE, ENDPOINT_VARIABLE, TOKEN_VARIABLE
from harness.validation import deployed_templates, refuse, target_inputs

SUITE = Path(__file__).resolve().parent.parent / "tests" / "integration"
EPHEMERAL = {"local"}  # targets whose resources end with the process that made them


def _common(parser: argparse.ArgumentParser) -> None:
    # Not argparse's choices: the validation names every bad input at once, in one format.
    parser.add_argument("--target", default="local", help=f"one of {', '.join(sorted(TARGETS))}")
    parser.add_argument(
        "--prefix", help="name prefix of every resource (default: the target's run id, else mlops)"
    )
    parser.add_argument(
        "--endpoint",
        help=f"target local: the one `harness serve` serves at this URL, with {TOKEN_VARIABLE} "
        f"and {CA_VARIABLE} as it prints them (default: ${ENDPOINT_VARIABLE}, else a target "
        "of this command's own)",
    )


def _served_by_endpoint(endpoint: str | None) -> None:
    """``--endpoint`` names the served target the way its environment variable does, so
    every layer below (validation, the pytest plugin, the target registry) reads one input."""
    if endpoint is not None:
        os.environ[ENDPOINT_VARIABLE] = endpoint


def _ephemeral(target: str) -> bool:
    """Whether the target's resources end with this process: an embedded local target's do,
    one that `harness serve` keeps does not."""
    return target in EPHEMERAL and not os.environ.get(ENDPOINT_VARIABLE)


_BEGAN = time.monotonic()


def _progress(message: str) -> None:
    began = _BEGAN
    print(f"[harness {time.monotonic() - began:6.1f}s] {message}", file=sys.stderr, flush=True)


def suite_args(
    target: str,
    prefix: str | None,
    report: Path | None,
    extra: list[str],
    formats: tuple[str, ...] = FORMATS,
) -> list[str]:
    """pytest arguments that run the suite with the harness plugin."""
    # Hypothesis's plugin (installed with the test extras) has nothing to do in the suite but
    # import Hypothesis for its summary line, a second of a run.
    args = [str(SUITE), "-p", "harness.pytest_plugin", "-p", "no:cacheprovider", "-q"]
    args += ["-p", "no:hypothesispytest"]
    args += ["--no-header", "--target", target]
    if prefix:
        args += ["--prefix", prefix]
    if report is not None:
        args += ["--harness-report", str(report), "--harness-formats", ",".join(formats)]
        args += ["--junitxml", str(report / "junit.xml")] if "junit" in formats else []
    return args + extra


def _run_suite(argv: list[str], prog: str, description: str, reuse: bool) -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=textwrap.fill(description, 88),
        epilog=exit_codes_help(
            "run", "exit codes (the same as pytest -p harness.pytest_plugin tests/integration):"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    parser.add_argument("--report", type=Path, help="write JUnit, summary, matrix, decisions here")
    parser.add_argument("--formats", help=f"report formats, comma-separated: {','.join(FORMATS)}")
    if not reuse:
        parser.add_argument("--keep", action="store_true", help="leave the deployment in place")
    parser.add_argument(
        "--reject-approval", action="store_true", help="reject the manual approval instead"
    )
    parser.add_argument("--allow-unproven", action="store_true", help=ALLOW_UNPROVEN_HELP)
    if not reuse:
        parser.add_argument(
            "--scp",
            type=Path,
            action="append",
            default=[],
            metavar="FILE",
            help="an SCP (JSON) attached to the training and production accounts before deploy, "
            "to see whether it breaks the pipeline (target local); repeatable",
        )
        parser.add_argument(
            "--templates",
            type=Path,
            help="folder with account templates replacing infra/templates' (same file names)",
        )
    parser.set_defaults(target=None)  # not given: the config file or HARNESS_TARGET decides
    args = parser.parse_args(argv)
    _served_by_endpoint(args.endpoint)
    given = ("target", "prefix", "report", "templates", "formats")
    flags = {name: getattr(args, name, None) for name in given}
    flags["unproven"] = "allow" if args.allow_unproven else None
    try:
        settings, found = config.load(Path.cwd(), os.environ, flags), []
    except config.ConfigError as error:  # reported with the other inputs' problems below
        settings, found = error.settings, error.problems
    if not found:
        config.apply_to_environment(settings, os.environ)
    for name in given:
        setattr(args, name, settings[name].value)
    args.allow_unproven = settings["unproven"].value == "allow"
    inputs = {"report": args.report, "allowlist": allowlist_path()}
    inputs["scps"] = tuple(getattr(args, "scp", ()))
    if not reuse:
        inputs["templates"] = deployed_templates(args.templates)
    refused = refuse(prog, target_inputs(args.target, args.prefix, **inputs), found)
    if refused is not None:
        return refused
    if reuse and _ephemeral(args.target):
        print(
            f"{prog}: nothing outlives a process on target {args.target}; "
            "use `harness run` there (it deploys, checks and tears down in one go), or "
            "`harness serve` and --endpoint",
            file=sys.stderr,
        )
        return 2
    if not SUITE.is_dir():
        print(
            f"{prog}: the compliance suite {SUITE} is missing (run from a clone)", file=sys.stderr
        )
        return 2
    extra = ["--reuse-deployment"] if reuse else (["--keep"] if args.keep else [])
    if args.reject_approval:
        extra.append("--reject-approval")
    if args.allow_unproven:
        extra.append("--allow-unproven")
    if args.templates is not None:
        extra += ["--templates", str(args.templates)]
    for scp in getattr(args, "scp", []):
        extra += ["--scp", str(scp)]
    code = pytest.main(suite_args(args.target, args.prefix, args.report, extra, args.formats))
    if args.report is not None:
        print(f"reports in {args.report}/ ({', '.join(args.formats)}; decisions.jsonl)")
    return int(code)


def run_main(argv: list[str]) -> int:
    return _run_suite(
        argv,
        "harness run",
        "Deploy A, B and C, push the source, run the pipeline, prove the promises with the "
        "compliance suite, report, and tear down (unless --keep).",
        reuse=False,
    )


def check_main(argv: list[str]) -> int:
    return _run_suite(
        argv,
        "harness check",
        "Run the compliance suite against a deployment already on the target (harness deploy).",
        reuse=True,
    )


def deploy_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="harness deploy",
        description="Deploy A, B and C, the data, canaries and the pipeline, and push the source.",
        epilog=exit_codes_help("deploy"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    parser.add_argument("--outputs", type=Path, help="write the stack outputs here as JSON")
    args = parser.parse_args(argv)
    _served_by_endpoint(args.endpoint)
    outputs_folder = None if args.outputs is None else args.outputs.parent
    inputs = target_inputs(
        args.target, args.prefix, templates=deployed_templates(None), report=outputs_folder
    )
    if (refused := refuse("harness deploy", inputs)) is not None:
        return refused
    ephemeral = _ephemeral(args.target)
    if ephemeral:
        _progress(f"target {args.target} ends with this process: this only proves the deploy")
    with make_target(args.target) as target:
        settings = Settings.for_target(target, args.prefix)
        try:
            deployment = deploy(target, settings, _progress)
        except DeployError as error:
            print(f"harness deploy: {error}", file=sys.stderr)
            teardown(target, settings, _progress)
            return 1
        document = {"settings": settings.wiring_settings, **deployment.outputs}
        text = json.dumps(document, indent=2)
        if args.outputs:
            args.outputs.write_text(text + "\n")
        print(text)
        if ephemeral:
            report = teardown(target, settings, _progress)
            return 0 if report.clean else 1
    return 0


def destroy_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="harness destroy",
        description="Remove everything a run created (idempotent); exit 1 if anything is left.",
        epilog=exit_codes_help("destroy"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    args = parser.parse_args(argv)
    _served_by_endpoint(args.endpoint)
    if (refused := refuse("harness destroy", target_inputs(args.target, args.prefix))) is not None:
        return refused
    with make_target(args.target) as target:
        report = teardown(target, Settings.for_target(target, args.prefix), _progress)
    for line in report.errors:
        print(f"could not remove: {line}")
    for line in report.left:
        print(f"still there: {line}")
    print("nothing left" if report.clean else "resources left behind")
    return 0 if report.clean else 1
