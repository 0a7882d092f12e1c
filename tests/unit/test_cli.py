"""The `harness` command line: usage, and `render` from an outputs file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.unit.wiring import SETTINGS, stack_outputs


def test_unknown_command_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy-everything"]) == 2
    assert "usage: harness [--version] COMMAND" in capsys.readouterr().out


def test_render_writes_pipeline_and_source_bundle(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"settings": SETTINGS, **stack_outputs()}))
    assert main(["render", str(outputs), "--out", str(tmp_path / "r")]) == 0
    pipeline = json.loads((tmp_path / "r" / "pipeline.json").read_text())
    assert pipeline["pipeline"]["name"] == "mlops"
    assert (tmp_path / "r" / "source" / "training-stack.config.json").is_file()


def test_render_names_the_missing_output(tmp_path: Path, capsys) -> None:
    stacks = stack_outputs()
    del stacks["shared-services"]["ArtifactKeyArn"]
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"settings": SETTINGS, **stacks}))
    assert main(["render", str(outputs), "--out", str(tmp_path / "r")]) == 1
    assert "output ArtifactKeyArn of stack 'shared-services' is missing" in capsys.readouterr().err
    assert not (tmp_path / "r" / "pipeline.json").exists()


def test_render_reports_an_unreadable_outputs_file(tmp_path: Path, capsys) -> None:
    assert main(["render", str(tmp_path / "nope.json")]) == 2
    assert "nope.json" in capsys.readouterr().err
