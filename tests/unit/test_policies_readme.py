"""``policies/README.md`` names live checks by pytest node id; each must be a test that exists,
so the table cannot drift from the suite."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "policies" / "README.md"
NODE_ID = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)(?:\[[^\]]*\])?`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
    }


def test_every_named_check_exists() -> None:
    section = README.read_text().split("## Faults only a live run can catch", 1)[1]
    named = NODE_ID.findall(section)
    assert len(named) >= 10, "the live-check table names fewer checks than the faults it lists"
    missing = [f"{file}::{test}" for file, test in named if test not in _tests_in(REPO / file)]
    assert not missing, f"policies/README.md names checks that do not exist: {missing}"


def test_every_check_of_the_promises_is_named() -> None:
    """The other way round: each security check of the suite appears in the table."""
    section = README.read_text().split("## Faults only a live run can catch", 1)[1]
    named = {f"{file}::{test}" for file, test in NODE_ID.findall(section)}
    suite = REPO / "tests" / "integration"
    for module in ("test_encryption.py", "test_key_access.py", "test_trust.py"):
        for test in _tests_in(suite / module):
            assert f"tests/integration/{module}::{test}" in named, f"{module}::{test} is not listed"
