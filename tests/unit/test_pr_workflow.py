"""The pull-request workflow runs what it says, on the files the commands write.

`tox -e lint` validates the workflows against GitHub's schema (check-jsonschema); this test
checks what a schema cannot: that the jobs run lint, unit, the gate and the local run, and
that the SARIF and artifact paths are those the tox commands write."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "pr.yml"


def _workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def _tox_commands(env: str) -> str:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini")
    return tox[f"testenv:{env}"]["commands"].replace("\\\n", " ")


def _steps(job: str) -> list[dict[str, Any]]:
    return _workflow()["jobs"][job]["steps"]


def _step_using(job: str, action: str) -> dict[str, Any]:
    return next(s for s in _steps(job) if s.get("uses", "").startswith(action + "@"))


def test_runs_on_pull_requests() -> None:
    workflow = _workflow()
    assert "pull_request" in workflow[True]  # PyYAML reads the key `on` as True


def test_jobs_run_lint_unit_gate_and_the_local_run() -> None:
    runs = {job: [s.get("run", "") for s in _steps(job)] for job in _workflow()["jobs"]}
    assert runs["lint"][-1] == "tox -e lint"
    assert runs["unit"][-1] == "tox -e unit"
    assert "tox -e gate" in runs["gate"]
    assert "tox -e run" in runs["local"]
    assert "harness run --target local" in _tox_commands("run")


def test_every_step_uses_or_runs_and_actions_are_pinned() -> None:
    for job, spec in _workflow()["jobs"].items():
        assert spec["runs-on"] == "ubuntu-latest" and spec["timeout-minutes"] > 0, job
        for step in spec["steps"]:
            assert ("uses" in step) != ("run" in step), (job, step)
            if "uses" in step:
                assert "@v" in step["uses"], step["uses"]


def test_gate_sarif_goes_to_code_scanning_from_where_the_gate_writes_it() -> None:
    upload = _step_using("gate", "github/codeql-action/upload-sarif")
    assert upload["if"] == "always()"  # findings fail the job; they must still be uploaded
    assert "--report-dir {toxinidir}/reports/gate" in _tox_commands("gate")
    assert upload["with"]["sarif_file"] == "reports/gate/gate.sarif"
    assert _workflow()["jobs"]["gate"]["permissions"]["security-events"] == "write"


def test_local_run_uploads_the_html_report_and_junit() -> None:
    upload = _step_using("local", "actions/upload-artifact")
    assert upload["if"] == "always()"
    assert "--report {toxinidir}/reports/run" in _tox_commands("run")
    paths = upload["with"]["path"].split()
    assert {"reports/run/report.html", "reports/run/junit.xml"} <= set(paths)


def test_lint_validates_the_workflows_against_their_schema() -> None:
    lint = _tox_commands("lint")
    assert "check-jsonschema --builtin-schema vendor.github-workflows" in lint
    for workflow in (REPO / ".github" / "workflows").glob("*.yml"):
        assert f".github/workflows/{workflow.name}" in lint, workflow.name


def test_unit_and_the_local_run_cover_the_oldest_python_the_package_admits_and_a_newer() -> None:
    """A leg per Python, and an artifact name per leg (two legs uploading one name fail)."""
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    floor = re.fullmatch(r">=(3\.\d+)", requires)
    assert floor, requires
    for job in ("unit", "local"):
        versions = _workflow()["jobs"][job]["strategy"]["matrix"]["python"]
        assert versions[0] == floor.group(1) and len(versions) > 1, (job, versions)
        setup = _step_using(job, "actions/setup-python")
        assert setup["with"]["python-version"] == "${{ matrix.python }}"
    upload = _step_using("local", "actions/upload-artifact")
    assert "${{ matrix.python }}" in upload["with"]["name"]
