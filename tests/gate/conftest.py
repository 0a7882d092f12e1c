"""Gate test fixtures: one gate run per session over each directory (checkov is slow to start)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.gate import GateResult, run_gate
from harness.gate.checkov_runner import CheckovError, checkov_command

HERE = Path(__file__).parent
FAULTS = HERE / "fixtures"
PASSING = HERE / "passing"
REPO = HERE.parents[1]


def require_checkov() -> None:
    try:
        checkov_command()
    except CheckovError as error:
        pytest.skip(f"checkov is not installed here (run tox -e gate): {error}")


@pytest.fixture(scope="session")
def gate_run(tmp_path_factory: pytest.TempPathFactory) -> GateResult:
    """The fault fixtures and the passing examples, in one gate run."""
    require_checkov()
    return run_gate([FAULTS, PASSING], tmp_path_factory.mktemp("gate"))
