"""The gate finds by proof what a bucket policy lets through, however its statements are
written: each proof fixture fails with its rule, at the line of the statement at fault, in
the SARIF report too. Runs without checkov (the proof is the gate's own)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.gate import proof_checks
from harness.gate.report import write_sarif
from tests.gate.conftest import HERE

PROOF_FIXTURES = HERE / "proof_fixtures"
AT_FAULT = {  # fixture -> the Sid of the statement the finding must point at
    "PROOF_ENCRYPTION-any-key.yaml": "DenyPutUnderAnyOtherKey",
    "PROOF_ENCRYPTION-kms-not-required.yaml": "DenyPutUnderAnyOtherKey",
    "PROOF_ENCRYPTION-only-headerless-puts-denied.yaml": "DenyPutNotEncryptedWithKms",
    "PROOF_OBJECT_ACCESS-any-arn-reads.yaml": "AnyArnReads",
    "PROOF_OBJECT_ACCESS-everyone-reads.yaml": "PublicRead",
    "PROOF_OBJECT_ACCESS-notprincipal-reads.yaml": "EveryoneButTheRootReads",
    "PROOF_TLS-deny-for-own-account-only.yaml": "DenyInsecureTransport",
    "PROOF_TLS-objects-written-as-notresource.yaml": "DenyInsecureTransport",
    "PROOF_UNDECIDED-binary-condition.yaml": "DenyPutNotEncryptedWithKms",
}


def test_every_proof_fixture_is_listed() -> None:
    assert {p.name for p in PROOF_FIXTURES.glob("*.yaml")} == set(AT_FAULT)


@pytest.mark.parametrize("name", sorted(AT_FAULT))
def test_the_proof_finds_the_fault_at_its_statement(name: str, tmp_path: Path) -> None:
    fixture = PROOF_FIXTURES / name
    found, proven, notes = proof_checks.check([fixture])
    assert (proven, notes) == ([fixture], [])
    [finding] = found
    assert (finding.tool, finding.check_id, Path(finding.file)) == (
        "prove",
        name.split("-", 1)[0],
        fixture,
    )
    assert finding.line is not None
    written = fixture.read_text().splitlines()[finding.line - 1].strip()
    assert written == f"- Sid: {AT_FAULT[name]}", written
    sarif = tmp_path / "gate.sarif"
    write_sarif(found, [], sarif, HERE.parents[1])
    runs = json.loads(sarif.read_text())["runs"]
    [run] = [r for r in runs if r["tool"]["driver"]["name"] == "prove"]
    [location] = run["results"][0]["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith(name)
    assert location["physicalLocation"]["region"]["startLine"] == finding.line
