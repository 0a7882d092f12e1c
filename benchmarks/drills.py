"""Run the reliability drills (tests/drills/) and print one line per drill with its outcome and
duration, then ``drills_passed=<n> of=<m>``.

    python benchmarks/drills.py [--nightly] [pytest args, e.g. -k provider]

The drills of ``tox -e drills`` (the aws target's guards against the local stand-in among
them); with ``--nightly`` also the slow ones of ``tox -e drills-nightly`` (interrupts at the
checks, at teardown and at mutate's deploy, a stuck training job and endpoint start, two suites
and two runs at once). The outcomes and durations are pytest's own, read from the JUnit file of
one run.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    if "--nightly" in argv:
        argv = [a for a in argv if a != "--nightly"]
    else:
        argv = ["-m", "not nightly and not evidence", *argv]
    with tempfile.TemporaryDirectory(prefix="drills-") as folder:
        junit = Path(folder) / "junit.xml"
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        subprocess.run(
            [*pytest, "tests/drills", "--junitxml", str(junit), *argv],
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        if not junit.exists():
            print("drills_passed=0 of=0 (pytest wrote no JUnit file)")
            return 1
        cases = list(ElementTree.parse(junit).iter("testcase"))
    passed = 0
    for case in cases:
        problems = [p.tag for p in case if p.tag in {"failure", "error", "skipped"}]
        outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(
            problems[0] if problems else "", "passed"
        )
        passed += outcome == "passed"
        print(f"{case.get('name', '?'):<72} {outcome:<8} {float(case.get('time', 0)):7.1f} s")
    print(f"drills_passed={passed} of={len(cases)}")
    return 0 if cases and passed == len(cases) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
