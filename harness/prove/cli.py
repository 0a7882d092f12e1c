"""``harness prove``: the promises proven for every principal and request context.

On templates (``harness prove [PATH...]``, default ``infra``) or on a deployment
(``harness prove --target local|aws``). Prints each property's verdict and counterexamples,
writes ``prove.json`` and, where a property fails, a pytest module replaying the
counterexamples live. Exit codes: 0 every property proven, 1 a property fails, 3 a property
could not be decided or encoded (the proof refuses to claim it), 2 the proof cannot run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from harness.access import SCP_HELP
from harness.cloudformation import ValidationError
from harness.deploy import TARGETS, DeployError
from harness.deploy.guardrails import read_scp
from harness.exit_codes import exit_codes_help
from harness.proof import Verdict
from harness.prove.proofs import Proof, of_files, of_target
from harness.prove.rendered import CannotRender
from harness.prove.replay import Fault
from harness.prove.report import as_json, describe, summary
from harness.validation import Inputs, given_paths, refuse

GROUPS = ("key-use", "encryption", "tls", "object-access", "trust", "liveness")
_BEGAN = time.monotonic()


def _progress(message: str) -> None:
    print(f"[prove {time.monotonic() - _BEGAN:6.1f}s] {message}", file=sys.stderr, flush=True)


def _slug(proof: Proof) -> str:
    """A name for a proof's files: its fragment's, else ``infra`` or the target's."""
    if proof.fault != Fault() or proof.source.endswith("put into the infra"):
        name = Path(proof.source.split(" ")[0]).stem
    else:
        name = "infra" if proof.about else proof.source.rsplit(" ", 1)[-1]
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()


def _report(proof: Proof, directory: Path, verbose: bool) -> Path | None:
    print(f"== {proof.source}")
    for note in proof.notes:
        print(f"NOT PROVEN: {note}")
    for result in proof.results:
        if verbose or result.verdict is not Verdict.PROVEN:
            for line in describe(result, proof.locate):
                print(line)
    if proof.results:
        print(summary(proof.results))
    elif not proof.notes:
        print("every property is as proven for the infra")
    path = directory / f"test_counterexamples_{_slug(proof)}.py"
    replay = proof.replay_module(path)
    if replay is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    path.write_text(replay[0])
    print(f"replay: {replay[1]}")
    return path


def exit_code(proofs: list[Proof]) -> int:
    verdicts = {r.verdict for p in proofs for r in p.results}
    if Verdict.FAILED in verdicts:
        return 1
    return 3 if Verdict.UNKNOWN in verdicts or any(p.unproven for p in proofs) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="harness prove",
        description=__doc__,
        epilog=exit_codes_help("prove"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", type=Path, help="templates or folders (default infra)")
    parser.add_argument("--target", choices=sorted(TARGETS), help="prove a deployment instead")
    parser.add_argument("--prefix", help="the deployment's name prefix (--target)")
    parser.add_argument("--only", action="append", choices=GROUPS, help="prove these groups")
    parser.add_argument("--scp", type=Path, action="append", default=[], help=SCP_HELP)
    parser.add_argument("--report", type=Path, default=Path("reports/prove"), help="output folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="list proven properties too")
    args = parser.parse_args(argv)
    if args.target and args.paths:
        parser.error("give templates or --target, not both")
    inputs = Inputs(
        paths=given_paths(args.paths),
        report=args.report,
        prefix=args.prefix,
        target=args.target,
        scps=tuple(args.scp),
    )
    if (refused := refuse("harness prove", inputs)) is not None:
        return refused
    scps = [read_scp(path) for path in args.scp]  # checked with the other inputs
    only = args.only or ()
    try:
        if args.target:
            proofs = [of_target(args.target, args.prefix, _progress, only, scps)]
        else:
            proofs = of_files(args.paths or [Path("infra")], only=only, scps=scps)
    except (CannotRender, DeployError, FileNotFoundError, ValidationError) as error:
        print(f"harness prove: cannot run: {error}", file=sys.stderr)
        return 2
    for proof in proofs:
        _report(proof, args.report, args.verbose)
    args.report.mkdir(parents=True, exist_ok=True)
    document = [
        {"source": p.source, "notes": p.notes, "results": as_json(p.results, p.locate)}
        for p in proofs
    ]
    (args.report / "prove.json").write_text(json.dumps(document, indent=2) + "\n")
    return exit_code(proofs)
