"""Wall time of the whole main job, ``harness run --target local``, in a fresh process, with
the seconds of each phase as the run itself recorded them (deploy from the harness's clock,
pipeline stages from CodePipeline's own timestamps).

    python benchmarks/e2e_local.py

Last line: ``total_s=<seconds>`` (goal: under 30 on 2 cores). Exits non-zero if the run did.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Phase -> the run's recorded phases it adds up (pipeline stages as infra/pipeline names them).
PHASES = {
    "deploy": ("deploy",),
    "source": ("pipeline Source",),
    "training": ("pipeline DeployTrainingStack", "pipeline Train"),
    "approval": ("pipeline Approve",),
    "endpoint": ("pipeline Deploy",),
}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="e2e-local-") as folder:
        report = Path(folder) / "report"
        began = time.monotonic()
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness.cli",
                "run",
                "--target",
                "local",
                "--report",
                str(report),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        total = time.monotonic() - began
        recorded = json.loads((report / "phases.json").read_text()) if report.exists() else {}
    if completed.returncode != 0:
        print(completed.stdout[-4000:], completed.stderr[-4000:], sep="\n", file=sys.stderr)
    for phase, parts in PHASES.items():
        found = [recorded[p] for p in parts if p in recorded]
        shown = f"{sum(found):.2f}" if found else "not run"
        print(f"{phase}_s={shown}")
    print(f"exit_code={completed.returncode}")
    print(f"total_s={total:.2f}")
    return completed.returncode


if __name__ == "__main__":
    raise SystemExit(main())
