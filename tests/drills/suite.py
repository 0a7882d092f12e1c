"""Run the compliance suite in its own process (one local target per process), as drills do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUITE = REPO / "tests" / "integration"


def pytest_command(*options: str) -> list[str]:
    """pytest with the harness plugin on the suite and ``options``."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "harness.pytest_plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        str(SUITE),
        *options,
    ]


def suite_command(report: Path, *options: str) -> list[str]:
    """The suite with the harness plugin and ``options``, its JUnit file and reports in
    ``report``."""
    return pytest_command(
        *options, "--junitxml", str(report / "junit.xml"), "--harness-report", str(report)
    )


def run_suite(
    report: Path, *options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """:func:`suite_command` run to its end (``env`` added to the environment)."""
    return subprocess.run(
        suite_command(report, *options),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )
