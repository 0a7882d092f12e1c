"""One local target per test module, with the project's own stacks deployed A, then B and C.

Parameters are wired as the harness wires them (infra/README.md): A gets B's and C's ids and
the data publisher principal (here A's deployer role); B and C get A's bucket and key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.targets.local import DEPLOYER_ROLE, LocalTarget
from harness.templates import ACCOUNT_TEMPLATES, load_template, package

PREFIX = "mlops"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(workdir=tmp_path_factory.mktemp("local-target")) as started:
        yield started


def _body(role: str) -> str:
    path: Path = ACCOUNT_TEMPLATES[role]
    return json.dumps(package(load_template(path), path))


@pytest.fixture(scope="module")
def outputs(target: LocalTarget) -> dict[str, dict[str, str]]:
    """Stack outputs by account role, after deploying all three account stacks."""
    a, b, c = (target.accounts[r] for r in ("shared-services", "training", "production"))
    shared = target.deploy_stack(
        "shared-services",
        f"{PREFIX}-shared-services",
        _body("shared-services"),
        {
            "Prefix": PREFIX,
            "TrainingAccountId": b,
            "ProductionAccountId": c,
            "DataPublisherPrincipalArn": f"arn:aws:iam::{a}:role/{DEPLOYER_ROLE}",
        },
    )
    wiring = {
        "Prefix": PREFIX,
        "SharedServicesAccountId": a,
        "ArtifactBucketName": shared["ArtifactBucketName"],
        "ArtifactKeyArn": shared["ArtifactKeyArn"],
    }
    training = target.deploy_stack(
        "training", f"{PREFIX}-training-roles", _body("training"), wiring
    )
    production = target.deploy_stack(
        "production", f"{PREFIX}-production", _body("production"), wiring
    )
    return {"shared-services": shared, "training": training, "production": production}
