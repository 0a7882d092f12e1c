"""``harness``: the command line of the pipeline and its compliance harness.

Each subcommand is a thin front for a module that does the work, so the same code serves the
CLI, the pytest plugin and the tests.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import version
from pathlib import Path

from harness.exit_codes import BY_COMMAND, exit_codes_help


def _render(argv: list[str]) -> int:
    from harness.render import RenderError, Wiring, render_pipeline, render_source_bundle
    from harness.validation import Inputs, refuse

    parser = argparse.ArgumentParser(
        prog="harness render",
        description="Render the pipeline (CreatePipeline input) and the source bundle from stack "
        "outputs, refusing any missing or malformed value.",
        epilog=exit_codes_help("render"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "outputs",
        type=Path,
        help='JSON file: {"settings": {"Prefix", "Region"}, "shared-services": {...outputs}, '
        '"training": {...}, "production": {...}}',
    )
    parser.add_argument("--out", type=Path, default=Path("rendered"), help="output folder")
    args = parser.parse_args(argv)
    inputs = Inputs(paths={"outputs": ("file", args.outputs)}, report=args.out)
    if (refused := refuse("harness render", inputs)) is not None:
        return refused
    try:
        stacks = json.loads(args.outputs.read_text())
        wiring = Wiring.from_outputs(stacks.pop("settings", {}), stacks)
        pipeline = render_pipeline(wiring)
        written = render_source_bundle(wiring, args.out / "source")
    except (OSError, json.JSONDecodeError) as exc:
        print(f"harness render: {args.outputs}: {exc}", file=sys.stderr)
        return 2
    except RenderError as exc:
        print(f"harness render: {exc}", file=sys.stderr)
        return 1
    pipeline_path = args.out / "pipeline.json"
    pipeline_path.write_text(json.dumps(pipeline, indent=2) + "\n")
    for path in [pipeline_path, *written]:
        print(path)
    return 0


COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "harness.run:run_main",
        "deploy, run the pipeline, prove the promises, report, tear down",
    ),
    "check": ("harness.run:check_main", "run the compliance suite on an existing deployment"),
    "deploy": (
        "harness.run:deploy_main",
        "deploy A, B, C, data, canaries, pipeline; push the source",
    ),
    "destroy": ("harness.run:destroy_main", "remove everything a run created; report what is left"),
    "serve": (
        "harness.serve:main",
        "the local target as a server for the aws CLI, boto3, Terraform, CDK",
    ),
    "gate": (
        "harness.gate:main",
        "static gate: cfn-lint and checkov with our policies on templates",
    ),
    "rules": (
        "harness.rules:main",
        "the gate's rules and the live checks: id, severity, docs, fix",
    ),
    "prove": (
        "harness.prove:main",
        "prove the promises for every principal and context (SMT), or refute",
    ),
    "render": ("harness.cli:_render", "render the pipeline and source bundle from stack outputs"),
    "access-matrix": (
        "harness.access:main",
        "who may use the key, bucket and roles, vs the allow-list",
    ),
    "mutate": (
        "harness.mutate.cli:main",
        "mutation testing: does the suite kill every policy mutant?",
    ),
    "data": ("harness.training_data:main", "regenerate the deterministic training data"),
    "config": (
        "harness.config:main",
        "the effective settings (harness.toml, HARNESS_*) and their sources",
    ),
}
"""Command -> (``module:function`` that runs it, help). A command's module is imported when it
runs, not before: ``harness run`` has no use for the prover's or the gate's imports (a second
of start-up)."""


def _command(name: str) -> Callable[[list[str]], int]:
    module, function = COMMANDS[name][0].split(":")
    command: Callable[[list[str]], int] = getattr(import_module(module), function)
    return command


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:
        print(f"harness {version('xacct-ml-harness')}")
        return 0
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        print("usage: harness [--version] COMMAND [ARGS]\n\ncommands (exit codes):")
        for name, (_, help_text) in COMMANDS.items():
            codes = ", ".join(code for code, _ in BY_COMMAND[name])
            print(f"  {name:<14} {help_text} ({codes})")
        print(
            "\n`harness COMMAND --help` says what each exit code means; 2 is also a wrong "
            "command line."
        )
        return 0 if argv and argv[0] in {"-h", "--help"} else 2
    return _command(argv[0])(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
