"""`harness --version`, and every command's exit codes: the same in its --help, in
`harness --help` and in README.md (harness/exit_codes.py is the one table)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from harness.cli import COMMANDS, main
from harness.exit_codes import BY_COMMAND, readme_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"harness {version('xacct-ml-harness')}"


def test_every_command_has_its_exit_codes() -> None:
    assert set(BY_COMMAND) == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_help_lists_its_exit_codes(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for code, meaning in BY_COMMAND[command]:
        assert f"{code} {meaning.replace('`', '')}" in text, (command, code)


def test_top_level_help_lists_every_command_with_its_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command, codes in BY_COMMAND.items():
        line = next(line for line in out.splitlines() if line.split()[:1] == [command])
        assert line.endswith("(" + ", ".join(code for code, _ in codes) + ")"), line


def test_readme_has_every_commands_exit_codes() -> None:
    assert readme_table() in README.read_text()
