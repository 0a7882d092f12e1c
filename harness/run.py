"""``harness run``, ``check``, ``deploy`` and ``destroy``: the product's main commands.

``run`` and ``check`` run the compliance suite (``tests/integration``) through pytest with the
harness plugin, so there is one implementation of every check; the plugin prints the summary
and writes the reports. ``deploy`` and ``destroy`` expose the deployment on its own, for
targets whose state outlives the process (real accounts).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.deploy import TARGETS, DeployError, Settings, deploy, make_target, teardown
from harness.deploy.guardrails import ORGANIZATION_TARGETS, GuardrailError, read_scp
from harness.promises import ALLOW_UNPROVEN_HELP, EXIT_CODES

SUITE = Path(__file__).resolve().parent.parent / "tests" / "integration"
EPHEMERAL = {"local"}  # targets whose resources end with the process that made them


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default="local", choices=sorted(TARGETS))
    parser.add_argument(
        "--prefix", help="name prefix of every resource (default: the target's run id, else mlops)"
    )


_BEGAN = time.monotonic()


def _progress(message: str) -> None:
    began = _BEGAN
    print(f"[harness {time.monotonic() - began:6.1f}s] {message}", file=sys.stderr, flush=True)


def suite_args(
    target: str,
    prefix: str | None,
    report: Path | None,
    extra: list[str],
) -> list[str]:
    """pytest arguments that run the suite with the harness plugin."""
    args = [str(SUITE), "-p", "harness.pytest_plugin", "-p", "no:cacheprovider", "-q"]
    args += ["--no-header", "--target", target]
    if prefix:
        args += ["--prefix", prefix]
    if report is not None:
        args += ["--junitxml", str(report / "junit.xml"), "--harness-report", str(report)]
    return args + extra


def exit_codes_help() -> str:
    """The exit codes of a suite run, for ``--help`` (README.md has the same table)."""
    lines = ["exit codes (the same as pytest -p harness.pytest_plugin tests/integration):"]
    for code, meaning in EXIT_CODES:
        lines += textwrap.wrap(
            meaning.replace("`", ""), 88, initial_indent=f"  {code:<6}", subsequent_indent=" " * 8
        )
    return "\n".join(lines)


def _run_suite(argv: list[str], prog: str, description: str, reuse: bool) -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=textwrap.fill(description, 88),
        epilog=exit_codes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    parser.add_argument("--report", type=Path, help="write JUnit, summary, matrix, decisions here")
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
    args = parser.parse_args(argv)
    if reuse and args.target in EPHEMERAL:
        print(
            f"{prog}: nothing outlives a process on target {args.target}; "
            "use `harness run` there (it deploys, checks and tears down in one go)",
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
    if getattr(args, "templates", None) is not None:
        extra += ["--templates", str(args.templates)]
    scps = getattr(args, "scp", [])
    if scps and args.target not in ORGANIZATION_TARGETS:
        print(
            f"{prog}: --scp needs target local (its accounts form an organization)", file=sys.stderr
        )
        return 2
    for scp in scps:
        try:
            read_scp(scp)
        except GuardrailError as error:
            print(f"{prog}: {error}", file=sys.stderr)
            return 2
        extra += ["--scp", str(scp)]
    code = pytest.main(suite_args(args.target, args.prefix, args.report, extra))
    if args.report is not None:
        print(
            f"reports in {args.report}/ (junit.xml, summary.md, access-matrix.*, decisions.jsonl)"
        )
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
    )
    _common(parser)
    parser.add_argument("--outputs", type=Path, help="write the stack outputs here as JSON")
    args = parser.parse_args(argv)
    if args.target in EPHEMERAL:
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
        if args.target in EPHEMERAL:
            report = teardown(target, settings, _progress)
            return 0 if report.clean else 1
    return 0


def destroy_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="harness destroy",
        description="Remove everything a run created (idempotent); exit 1 if anything is left.",
    )
    _common(parser)
    args = parser.parse_args(argv)
    with make_target(args.target) as target:
        report = teardown(target, Settings.for_target(target, args.prefix), _progress)
    for line in report.errors:
        print(f"could not remove: {line}")
    for line in report.left:
        print(f"still there: {line}")
    print("nothing left" if report.clean else "resources left behind")
    return 0 if report.clean else 1
