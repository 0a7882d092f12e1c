"""Fixtures of the compliance suite beyond the plugin's: the cells of the principal x action
matrix and of the encryption promise, the prober that makes their requests, and what training
produced, read back through the AWS APIs as the roles that may read it."""

from __future__ import annotations

import functools
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from harness.deploy import Deployment
from harness.deploy.pipeline import PipelineRun
from harness.deploy.principals import PrincipalSessions
from harness.deploy.training import NoTraining, TrainingResult, latest_training
from harness.policy.access_matrix import Allowlist
from harness.probes.catalog import catalog, rendered_world
from harness.probes.cells import Cell, World, role_label
from harness.probes.judge import Status, Verdict, judge
from harness.probes.live import live_world, primed_prober
from harness.probes.prober import Prober
from harness.pytest_plugin import checks_here
from harness.targets import Capability, Target
from tests.integration.training import HOLDOUT, MODEL_FILE


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cells(check, expected=None): parametrise the test with the ids of that check's cells "
        "(only those the allow-list expects allowed, or refused, when expected is given)",
    )


@functools.cache
def _rendered(templates: Path | None) -> dict[str, dict[str, Cell]]:
    return catalog(rendered_world(templates))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("cells")
    if marker is None:
        return
    check = marker.args[0]
    expected = marker.kwargs.get("expected")
    cells = _rendered(metafunc.config.getoption("templates"))[check]
    ids = [i for i, cell in cells.items() if expected is None or cell.expected is expected]
    metafunc.parametrize("cell_id", ids)


@pytest.fixture(scope="session")
def world(
    deployment: Deployment,
    allowlist: Allowlist,
    harness_target: Target,
    principals: PrincipalSessions,
) -> World:
    """The live deployment's names, its roles as IAM holds them, and a ciphertext under the
    key."""
    return live_world(harness_target, deployment, allowlist, principals)


@pytest.fixture(scope="session")
def cells(world: World) -> dict[str, dict[str, Cell]]:
    return catalog(world)


@pytest.fixture(scope="session")
def prober(
    request: pytest.FixtureRequest,
    harness_target: Target,
    principals: PrincipalSessions,
    world: World,
    cells: dict[str, dict[str, Cell]],
) -> Prober:
    """Makes every cell's requests once: first writes the objects the read probes read, as
    principals allowed to write them, then makes the requests of the cells this session
    checks, several at a time, the as-deployed ones while the pipeline runs, the
    resource-side ones (which change roles' identity policies for a moment) after it
    finished."""

    def pipeline() -> None:
        if harness_target.has(Capability.RUNS_PIPELINE):
            request.getfixturevalue("pipeline_run")

    prober = primed_prober(harness_target, principals, world, cells)
    prober.prefetch(_selected(checks_here(request.config), cells), meanwhile=pipeline)
    return prober


def _selected(items: list[pytest.Item], cells: dict[str, dict[str, Cell]]) -> list[Cell]:
    """The live cells of the checks this process runs (after -k and the like; under -n, its
    worker's share)."""
    chosen = []
    for item in items:
        marker = item.get_closest_marker("cells")
        cell_id = getattr(item, "callspec", None) and item.callspec.params.get("cell_id")
        if marker is not None and cell_id in cells[marker.args[0]]:
            chosen.append(cells[marker.args[0]][cell_id])
    return chosen


@pytest.fixture(scope="session")
def verdict_of(
    pytestconfig: pytest.Config, prober: Prober, cells: dict[str, dict[str, Cell]]
) -> Callable[[str, str], Verdict]:
    """The verdict of the live cell ``cell_id`` of ``check``; a cell of the rendered templates
    with no live counterpart fails, naming what is missing."""

    @functools.cache
    def verdict(check: str, cell_id: str) -> Verdict:
        cell = cells[check].get(cell_id)
        if cell is None:
            rendered = _rendered(pytestconfig.getoption("templates"))[check][cell_id]
            return Verdict(
                rendered,
                Status.FAILED,
                f"{rendered.row}: {rendered.call.label}: the rendered templates have this cell "
                "but the live deployment does not (a role or principal they make is missing)",
            )
        return judge(cell, prober)

    return verdict


@pytest.fixture(scope="session")
def training_result(
    pipeline_run: PipelineRun, deployment: Deployment, harness_target: Target
) -> TrainingResult:
    try:
        return latest_training(harness_target, deployment.settings)
    except NoTraining as none:
        pytest.fail(str(none), pytrace=False)


@pytest.fixture(scope="session")
def model_bytes(
    training_result: TrainingResult, deployment: Deployment, principals: PrincipalSessions
) -> bytes:
    """``model.tar.gz`` read as the production hosting role (the role that serves it)."""
    uri = training_result.output["ModelArtifacts"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    hosting = deployment.outputs["production"]["SageMakerHostingRoleArn"]
    s3 = principals.client(hosting, "s3")
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.fixture(scope="session")
def booster(model_bytes: bytes) -> xgb.Booster:
    """The model, loaded as SageMaker's XGBoost container loads it."""
    with tarfile.open(fileobj=io.BytesIO(model_bytes), mode="r:gz") as archive:
        member = archive.extractfile(MODEL_FILE)
        assert member is not None, f"model.tar.gz has no {MODEL_FILE}: {archive.getnames()}"
        loaded = xgb.Booster()
        loaded.load_model(bytearray(member.read()))
    return loaded


@pytest.fixture(scope="session")
def holdout() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Held-out labels, features, and each row's feature text as sent to the endpoint."""
    lines = HOLDOUT.read_text().splitlines()
    rows = np.loadtxt(lines, delimiter=",", ndmin=2)
    features_text = [line.split(",", 1)[1] for line in lines]
    return rows[:, 0], rows[:, 1:], features_text


def rendered_roles(templates: Path | None) -> set[str]:
    """The labels of the roles the rendered templates make."""
    world = rendered_world(templates)
    return {role_label(role.name, world.prefix) for role in world.roles}
