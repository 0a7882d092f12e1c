"""``harness mutate``: mutation testing of the compliance suite on one live deployment.

Exit codes: 0 no mutant survived; 1 a mutant survived, or the suite does not pass unmutated
(mutants would prove nothing), or something failed; 2 bad usage; 130/143 interrupted by
SIGINT/SIGTERM (as ``harness run``). The mutant in place is restored and the deployment torn
down at the end, also on failure or a signal (a signal during teardown does not stop it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from harness.deploy import TARGETS, DeployError, Settings, deploy, make_target, teardown
from harness.deploy.pipeline import PipelineTimeout
from harness.exit_codes import exit_codes_help
from harness.interrupts import Interrupts
from harness.mutate.apply import RestoreFailed
from harness.mutate.baseline import BaselineFailed, baseline
from harness.mutate.examine import examine
from harness.mutate.mutants import generate
from harness.mutate.report import Outcome, Score, write_reports
from harness.mutate.sites import Kind, infra_sites
from harness.mutate.training import training_mutants
from harness.targets import Target

_BEGAN = time.monotonic()


def _progress(message: str) -> None:
    print(f"[mutate {time.monotonic() - _BEGAN:6.1f}s] {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness mutate",
        description="Apply every single-edit mutant of infra/'s key, bucket, trust and identity "
        "policies (and the training stack's encryption setting) to one live deployment, judge "
        "the checks that bear on each, restore it, and report killed, survived and equivalent. "
        "Exit 0 when no mutant survived, 1 otherwise or when the suite fails unmutated.",
        epilog=exit_codes_help("mutate"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", default="local", choices=sorted(TARGETS))
    parser.add_argument("--prefix", help="name prefix of every resource (default: the target's)")
    parser.add_argument("--report", type=Path, help="write summary.md, mutants.json, junit.xml")
    parser.add_argument(
        "--only", choices=[k.value for k in Kind], help="mutate only this kind of policy"
    )
    parser.add_argument(
        "--pipeline-timeout", type=float, default=300.0, help="seconds for one pipeline run"
    )
    return parser


def _mutate(
    target: Target,
    settings: Settings,
    only: Kind | None,
    timeout_s: float,
    score: Score,
    interrupts: Interrupts,
) -> None:
    """Deploy, establish the baseline, and examine every mutant into ``score``, keeping
    ``interrupts`` told the phase (what an interruption names)."""
    interrupts.phase = "deploy"
    deployment = deploy(target, settings, _progress)
    interrupts.phase = "mutants"
    sites = [s for s in infra_sites(deployment) if only in (None, s.kind)]
    generated = generate(sites)
    mutants = generated.mutants + (training_mutants() if only in (None, Kind.TRAINING) else [])
    score.identical, score.rejected = generated.identical, generated.rejected
    lab = baseline(target, deployment, sites, timeout_s, _progress)
    _progress(
        f"{len(mutants)} mutants ({len(generated.identical)} identical to the original and "
        f"{len(generated.rejected)} refused by AWS's rules left out)"
    )
    for number, mutant in enumerate(mutants, 1):
        interrupts.unwind()  # a signal the run went on after: no mutant is in place here
        result = examine(lab, mutant)
        score.results.append(result)
        by = f" by {result.check}/{result.cell}" if result.outcome is Outcome.KILLED else ""
        _progress(
            f"[{number:>3}/{len(mutants)}] {result.outcome.value:<10} {mutant.id}{by} "
            f"({result.seconds:.1f}s; {score.progress_counts()})"
        )


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    only = Kind(args.only) if args.only else None
    score = Score()
    failed = interrupted = False
    interrupts = Interrupts()
    interrupts.install()
    try:
        with make_target(args.target) as target:
            settings = Settings.for_target(target, args.prefix)
            try:
                _mutate(target, settings, only, args.pipeline_timeout, score, interrupts)
            except (BaselineFailed, DeployError, PipelineTimeout, RestoreFailed) as error:
                print(f"harness mutate: {error}", file=sys.stderr)
                failed = True
            except KeyboardInterrupt:
                interrupted = True
            finally:
                with interrupts.shielded("teardown"):
                    score.seconds = time.monotonic() - _BEGAN
                    if args.report is not None and score.results:
                        write_reports(score, args.report)
                    left = teardown(target, settings, _progress)
                if not left.clean:
                    failed = True
                    print("harness mutate: teardown left " + "; ".join(left.left + left.errors))
    finally:
        interrupts.restore()
    for survivor in score.survivors:
        print(f"SURVIVED: {survivor.mutant.id}: {survivor.detail}")
    if args.report is not None and score.results:
        print(f"reports in {args.report}/ (summary.md, mutants.json, junit.xml)")
    print(score.line)
    if interrupted or interrupts.received is not None:
        received = interrupts.received
        said = received.describe() if received else "interrupted"
        print(
            f"harness mutate: {said}; the mutant in place was restored, teardown ran",
            file=sys.stderr,
        )
        return received.exit_code if received else 130
    return 1 if failed or score.survivors else 0
