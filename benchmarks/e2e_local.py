"""Wall time of the whole main job, ``harness run --target local``, in a fresh process, cut
into the phases the run's own clock recorded (they add up to the run from pytest's configure
to its last report), what is left over (process start and imports before that clock, the
target's stop and the exit after it), the pipeline's stages by CodePipeline's own timestamps
(they overlap deploy: the pipeline starts when the source is pushed), peak memory, the CPU the
run's processes used, the CPU time the hypervisor took from this machine meanwhile (steal) and
how fast the machine was just before (``machine.reference_s``): on a shared virtual machine
wall times swing with both (the same run took 14 s and 42 s within half an hour).

    python benchmarks/e2e_local.py

Last line: ``total_s=<seconds>`` (goal: under 15 on 2 cores). Exits non-zero if the run did.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import reference_s, stolen_s


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="e2e-local-") as folder:
        report = Path(folder) / "report"
        command = [sys.executable, "-m", "harness.cli", "run", "--target", "local"]
        machine_seconds = reference_s()
        stolen_before = stolen_s()
        began = time.monotonic()
        completed = subprocess.run(
            [*command, "--report", str(report)], capture_output=True, text=True, check=False
        )
        total = time.monotonic() - began
        stolen_after = stolen_s()
        recorded = json.loads((report / "phases.json").read_text()) if report.exists() else {}
    # ru_maxrss is in KiB on Linux: the largest of the run's processes (the harness itself,
    # or a training job or endpoint it started), not their sum.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mib = children.ru_maxrss / 1024
    if completed.returncode != 0:
        print(completed.stdout[-4000:], completed.stderr[-4000:], sep="\n", file=sys.stderr)
    phases = recorded.get("phases", {})
    for phase, seconds in phases.items():
        print(f"{phase.replace(' ', '_')}_s={seconds:.2f}")
    clocked = sum(phases.values())
    print(f"run_clock_s={clocked:.2f} (the phases above, added up)")
    print(
        f"left_over_s={total - clocked:.2f} (process start and imports before the run's "
        "clock, target stop and exit after it)"
    )
    for stage, seconds in recorded.get("pipeline_stages", {}).items():
        print(f"pipeline_stage_{stage}_s={seconds:.2f} (CodePipeline's clock, overlaps deploy)")
    print(f"peak_rss_mib={peak_mib:.0f} (largest process of the run)")
    print(f"cpu_s={children.ru_utime + children.ru_stime:.2f} (user + system, every process)")
    if stolen_before is None or stolen_after is None:
        print("steal_s=unknown (no /proc/stat here)")
    else:
        print(
            f"steal_s={stolen_after - stolen_before:.2f} (CPU the hypervisor took from this "
            "machine's cores during the run: compare wall times only between runs where it is low)"
        )
    print(
        f"machine_s={machine_seconds:.3f} (a fixed workload's CPU seconds just before the run: the "
        "host's speed then; compare runs where it is alike)"
    )
    print(f"exit_code={completed.returncode}")
    print(f"total_s={total:.2f}")
    return completed.returncode


if __name__ == "__main__":
    raise SystemExit(main())
