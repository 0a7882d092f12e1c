"""One settings file: default < file < HARNESS_* < flag, each value validated on load with an
error naming the file or variable and the key; `harness config` says where each came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import config
from harness.cli import main
from harness.run import run_main

ACCOUNTS = 'shared-services = "111111111111"\ntraining = "222222222222"\n'
ACCOUNTS += 'production = "333333333333"\n'


def _pyproject(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(f'[project]\nname = "mine"\n\n[tool.harness]\n{body}')
    return path


def test_precedence_default_file_environment_flag(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    _pyproject(tmp_path, 'prefix = "fromfile"\ntemplates = "templates"\nunproven = "allow"\n')
    settings = config.load(tmp_path, {})
    assert settings["target"] == config.Setting("local", "default")
    assert settings["prefix"].value == "fromfile"
    assert settings["prefix"].source == f"{tmp_path / 'pyproject.toml'} [tool.harness] prefix"
    assert settings["templates"].value == tmp_path / "templates"  # relative to the file
    settings = config.load(tmp_path, {"HARNESS_PREFIX": "fromenv"})
    assert settings["prefix"] == config.Setting("fromenv", "HARNESS_PREFIX")
    settings = config.load(tmp_path, {"HARNESS_PREFIX": "fromenv"}, {"prefix": "fromflag"})
    assert settings["prefix"] == config.Setting("fromflag", "--prefix")
    assert settings["unproven"].value == "allow"


def test_harness_toml_wins_over_pyproject(tmp_path: Path) -> None:
    _pyproject(tmp_path, 'prefix = "frompyproject"\n')
    (tmp_path / "harness.toml").write_text('prefix = "fromharness"\n')
    assert config.load(tmp_path, {})["prefix"].value == "fromharness"


def test_a_pyproject_without_the_table_is_no_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert all(s.source == "default" for s in config.load(tmp_path, {}).values())


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('prefixx = "a"\n', "prefixx: unknown key"),
        ('target = "azure"\n', "target 'azure': must be one of aws, local, localstack"),
        ('prefix = "Has Spaces"\n', "[tool.harness] prefix 'Has Spaces': must match"),
        ('region = "moon-1"\n', "region 'moon-1': must be an AWS region name"),
        ('templates = "nowhere"\n', "nowhere: must be an existing folder"),
        ('allowlist = "none.yaml"\n', "must be an existing file"),
        ('unproven = "maybe"\n', "unproven 'maybe': must be one of fail, allow"),
        ("[tool.harness.accounts.local]\n" + ACCOUNTS, "local: only the aws target"),
        ('[tool.harness.accounts.aws]\ntraining = "2"\n', "aws: must be one id for each of"),
        ("prefix = \n", "pyproject.toml: "),
        ('formats = ["html", "pdf"]\n', "must be one or more of junit, md, json, html, sarif"),
        ("formats = []\n", "formats: must be one or more of"),
        ("formats = 3\n", "formats 3: must be a list of format names"),
    ],
)
def test_a_bad_value_is_refused_naming_the_key(tmp_path: Path, body: str, named: str) -> None:
    _pyproject(tmp_path, body)
    with pytest.raises(config.ConfigError, match=r"pyproject\.toml") as error:
        config.load(tmp_path, {})
    assert named in str(error.value)


def test_formats_default_to_all_and_come_from_file_environment_or_flag(tmp_path: Path) -> None:
    assert config.load(tmp_path, {})["formats"].value == ("junit", "md", "json", "html", "sarif")
    _pyproject(tmp_path, 'formats = ["html", "sarif"]\n')
    assert config.load(tmp_path, {})["formats"].value == ("html", "sarif")
    from_environment = config.load(tmp_path, {"HARNESS_FORMATS": "junit, md"})["formats"]
    assert from_environment == config.Setting(("junit", "md"), "HARNESS_FORMATS")
    assert config.load(tmp_path, {}, {"formats": "json"})["formats"].value == ("json",)


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match=r"^HARNESS_TARGET 'x': must be one of"):
        config.load(tmp_path, {"HARNESS_TARGET": "x"})


def test_accounts_region_and_allowlist_reach_the_targets_environment(tmp_path: Path) -> None:
    (tmp_path / "allow.yaml").write_text("{}\n")
    _pyproject(tmp_path, f'region = "eu-west-1"\nallowlist = "allow.yaml"\n'
               f"[tool.harness.accounts.aws]\n{ACCOUNTS}")  # fmt: skip
    environ: dict[str, str] = {}
    config.apply_to_environment(config.load(tmp_path, {}), environ)
    assert environ == {
        "HARNESS_AWS_ACCOUNTS": (
            "shared-services=111111111111,training=222222222222,production=333333333333"
        ),
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "HARNESS_ALLOWLIST": str(tmp_path / "allow.yaml"),
    }
    environ = {"HARNESS_AWS_ACCOUNTS": "set=by-hand"}
    config.apply_to_environment(config.load(tmp_path, {}), environ)
    assert environ["HARNESS_AWS_ACCOUNTS"] == "set=by-hand"


def test_harness_config_prints_values_and_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "harness.toml").write_text('prefix = "team"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARNESS_TARGET", "aws")
    assert main(["config"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"prefix     team  <- {tmp_path / 'harness.toml'} prefix" in lines
    assert "target     aws  <- HARNESS_TARGET" in lines
    assert "unproven   fail  <- default" in lines


def test_a_run_with_a_bad_config_exits_2_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "harness.toml").write_text('unproven = "sometimes"\n')
    monkeypatch.chdir(tmp_path)
    assert run_main([]) == 2
    assert (
        "harness.toml unproven 'sometimes': must be one of fail, allow" in capsys.readouterr().err
    )
