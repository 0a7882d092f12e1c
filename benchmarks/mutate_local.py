"""Mutation score of the compliance suite on the embedded local target, and its wall time:
``harness mutate --target local`` on ``infra/``, in a fresh process.

    python benchmarks/mutate_local.py [--report DIR] [--only key|bucket|trust|identity|training]

Last lines: ``killed=<n> survived=<m> equivalent=<k>`` and ``total_s=<seconds>`` (goal: no
survivor, in minutes on 2 cores). Exits with the run's exit code.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report", type=Path, help="keep the reports here")
    parser.add_argument("--only", help="mutate only this kind of policy")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mutate-local-") as folder:
        report = args.report or Path(folder) / "report"
        command = [sys.executable, "-m", "harness.cli", "mutate", "--target", "local"]
        command += ["--report", str(report)] + (["--only", args.only] if args.only else [])
        began = time.monotonic()
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        total = time.monotonic() - began
    lines = completed.stdout.strip().splitlines()
    score = next((line for line in reversed(lines) if line.startswith("killed=")), None)
    if score is None:
        print(completed.stdout[-4000:], completed.stderr[-4000:], sep="\n", file=sys.stderr)
    for line in lines:
        if line.startswith("SURVIVED:"):
            print(line)
    print(score or "killed=? survived=? equivalent=? (the run ended before a score)")
    print(f"exit_code={completed.returncode}")
    print(f"total_s={total:.1f}")
    return completed.returncode


if __name__ == "__main__":
    raise SystemExit(main())
