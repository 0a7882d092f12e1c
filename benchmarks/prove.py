"""Benchmark ``harness prove`` on ``infra/``: the whole proof, each property, each group.

Proves the rendered infra from scratch (no kept results) ``--repeat`` times and reports the
median run: wall and CPU seconds, the time of each group and of the slowest properties (both
variants together), then what a fault fixture put into the infra costs once the infra's own
results are kept (what the gate pays per fixture). The goal is under 10 s on 2 cores. Last
line: ``prove_s=<median wall seconds> properties=<n>``.

    .tox/unit/bin/python benchmarks/prove.py [--repeat 3] [--slowest 10] [--scp FILE ...]

With ``--scp``, everything is proven under those SCPs (attached to B and C as ``harness prove
--scp`` attaches them), to show what guardrails cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.deploy.guardrails import Scp, read_scp  # noqa: E402
from harness.proof import Result  # noqa: E402
from harness.prove.proofs import of_files  # noqa: E402

GOAL_S = 10.0
FIXTURE = ROOT / "tests" / "gate" / "fixtures" / "CKV_XACCT_002-key-use-to-account-roots.yaml"


def _timed(paths: list[Path], cache: dict, scps: list[Scp]) -> tuple[float, float, list[Result]]:
    wall, cpu = time.perf_counter(), time.process_time()
    proofs = of_files(paths, cache=cache, scps=scps)
    results = [r for p in proofs for r in p.results]
    return time.perf_counter() - wall, time.process_time() - cpu, results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--slowest", type=int, default=10)
    parser.add_argument("--scp", type=Path, action="append", default=[])
    args = parser.parse_args(argv)
    scps = [read_scp(path) for path in args.scp]

    runs = [_timed([ROOT / "infra"], {}, scps) for _ in range(args.repeat)]
    wall, cpu, results = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    per_property: dict[str, float] = defaultdict(float)
    per_group: dict[str, float] = defaultdict(float)
    for result in results:
        per_property[result.property.id] += result.seconds
        per_group[result.property.group] += result.seconds
    properties = len(per_property)
    verdicts = statistics.multimode(r.verdict for r in results)

    print(f"infra/: {properties} properties x 2 variants = {len(results)} results, {verdicts}")
    print(f"runs (wall s): {', '.join(f'{r[0]:.2f}' for r in runs)}; median run: CPU {cpu:.2f} s")
    print(f"{'group':<16}{'properties':>11}{'seconds':>9}{'s/property':>12}")
    for group, seconds in sorted(per_group.items(), key=lambda kv: -kv[1]):
        count = len({r.property.id for r in results if r.property.group == group})
        print(f"{group:<16}{count:>11}{seconds:>9.2f}{seconds / count:>12.3f}")
    print(f"slowest {args.slowest} properties (both variants):")
    for prop, seconds in sorted(per_property.items(), key=lambda kv: -kv[1])[: args.slowest]:
        print(f"  {seconds:6.3f} s  {prop}")
    mean = sum(per_property.values()) / properties
    median = statistics.median(per_property.values())
    print(f"per property: mean {mean:.3f} s, median {median:.3f} s")

    cache: dict = {}
    _timed([ROOT / "infra"], cache, scps)
    fixture_wall, fixture_cpu, _ = _timed([FIXTURE], cache, scps)
    print(
        f"{FIXTURE.name} put into the proven infra: {fixture_wall:.2f} s "
        f"(CPU {fixture_cpu:.2f} s) vs the infra from scratch {wall:.2f} s: "
        f"x{wall / fixture_wall:.1f}"
    )
    print(f"whole proof vs the {GOAL_S:.0f} s goal: {wall / GOAL_S:.2f}")
    print(f"prove_s={wall:.2f} properties={properties}")


if __name__ == "__main__":
    main()
