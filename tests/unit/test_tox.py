"""The default tox run (what CI runs, README's second command) can only pass or fail on what
its tests say: every pytest command in the envlist names test files that exist, so none of
them can end with pytest's exit 5 (no tests collected), which tox would count as a failure."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tox() -> configparser.ConfigParser:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini")
    return tox


def _envlist() -> list[str]:
    return [env.strip() for env in _tox()["tox"]["envlist"].split(",")]


def _pytest_paths(env: str) -> list[list[str]]:
    """The paths under tests/ of each pytest command of `env`."""
    commands = _tox()[f"testenv:{env}"]["commands"].replace("\\\n", " ")
    found = []
    for line in commands.splitlines():
        words = shlex.split(line.replace("{posargs}", ""), comments=True)
        if words[:1] == ["pytest"]:
            found.append([word for word in words if word.startswith("tests/")])
    return found


def test_the_envlist_runs_the_drills() -> None:
    assert "drills" in _envlist()
    assert _pytest_paths("drills") == [["tests/drills"]]


@pytest.mark.parametrize("env", _envlist())
def test_every_pytest_command_of_the_envlist_collects_tests(env: str) -> None:
    for paths in _pytest_paths(env):
        assert paths, f"{env}: a pytest command without a path would collect the testpaths"
        for path in paths:
            files = (
                [REPO / path] if path.endswith(".py") else sorted((REPO / path).rglob("test_*.py"))
            )
            tests = [f for f in files if "\ndef test_" in f.read_text()]
            assert tests, f"{env}: {path} holds no test function, pytest would exit 5"
