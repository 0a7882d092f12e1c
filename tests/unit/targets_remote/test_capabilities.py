"""The capability table is produced from the targets' declarations."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.targets.aws import AwsTarget
from harness.targets.base import Capability
from harness.targets.capabilities import (
    MEASURED,
    NO,
    YES,
    capability_table,
    main,
    measured_table,
)
from harness.targets.local import LocalTarget
from harness.targets.localstack import LocalStackTarget
from harness.targets.localstack.probes import ProbeResult
from harness.targets.localstack.target import PROJECT_SERVICES

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.localstack.yml"


def _rows(table: str) -> dict[str, list[str]]:
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def test_one_row_per_capability_and_one_column_per_target():
    table = capability_table(
        {"local": LocalTarget, "localstack": LocalStackTarget, "aws": AwsTarget}
    )
    assert table.splitlines()[0] == "| capability | `local` | `localstack` | `aws` |"
    rows = _rows(table)
    assert list(rows) == [c.description for c in Capability]
    for capability in Capability:
        local, localstack, aws = rows[capability.description]
        assert local == (YES if capability in LocalTarget.capabilities else NO)
        assert aws == YES
        assert localstack == (
            MEASURED if capability in LocalStackTarget.measured_capabilities else NO
        )


def test_localstack_claims_nothing_before_measuring():
    assert LocalStackTarget.capabilities == frozenset()
    assert Capability.RUNS_TRAINING not in LocalStackTarget.measured_capabilities


def test_the_compose_file_serves_what_the_target_starts():
    compose = yaml.safe_load(COMPOSE.read_text())
    service = compose["services"]["localstack"]
    listed = set(service["environment"]["SERVICES"].split(","))
    assert listed == PROJECT_SERVICES | LocalStackTarget(environ={}).services
    assert service["image"].split(":")[1] != "latest"
    assert "LOCALSTACK_AUTH_TOKEN" in service["environment"]


def test_the_measured_table_shows_each_probe_with_what_it_saw():
    results = [
        ProbeResult(Capability.ENFORCES_TRUST_POLICY, True, "untrusted account refused: True"),
        ProbeResult(Capability.ENFORCES_KEY_POLICY, False, "other account refused: False"),
    ]
    table = measured_table("localemu 1.3.2", results)
    assert table.splitlines()[0] == "Measured on localemu 1.3.2:"
    rows = _rows("\n".join(table.splitlines()[2:]))
    assert rows[Capability.ENFORCES_TRUST_POLICY.description] == [
        YES,
        "untrusted account refused: True",
    ]
    assert rows[Capability.ENFORCES_KEY_POLICY.description][0] == NO


def test_main_prints_the_table_and_starts_no_target(capsys, monkeypatch):
    def refuse_start(self):
        raise AssertionError(f"{self.name} started")

    for target_class in (LocalTarget, LocalStackTarget, AwsTarget):
        monkeypatch.setattr(target_class, "start", refuse_start)
    main([])
    printed = capsys.readouterr().out
    assert printed.startswith("| capability | `local` |")
    assert "Measured on" not in printed


def test_readme_shows_the_table_the_targets_declare():
    from harness.targets.capabilities import registered_targets

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert capability_table(registered_targets()) in readme, (
        "README's capability table is stale: paste `python -m harness.targets.capabilities`"
    )
