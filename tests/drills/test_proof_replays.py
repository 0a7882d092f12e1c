"""Proof drills: each gate fault fixture that bears on the key, the bucket or a trust policy
fails ``harness prove`` with a counterexample, and the pytest cases the proof writes confirm
every counterexample the target can make live on the local target (the fixture's policies put
in place on a deployment, the request made as the counterexample's principal).

One ``harness prove`` over the fixtures, then one pytest run of every replay module on one
local deployment. Fixtures whose fault is configuration rather than policy (bucket default
encryption without the customer key, key rotation) are outside the proof's model: the gate's
checks and the live encryption checks catch them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.prove.replay import EXTRA_ACCOUNTS

# Evidence that the suite or the proof catches a fault: `tox -e evidence` runs these.
pytestmark = pytest.mark.evidence

REPO = Path(__file__).resolve().parents[2]
GATE = REPO / "tests" / "gate"


@dataclass(frozen=True)
class Fixture:
    groups: frozenset[str]  # the property groups the proof must find failing


KEY, BUCKET, TRUST = frozenset({"key-use"}), frozenset({"encryption"}), frozenset({"trust"})
TLS, READ = frozenset({"tls"}), frozenset({"object-access"})
DRILLS = {  # under tests/gate/
    "fixtures/CKV_XACCT_001-bucket-aes256.yaml": Fixture(BUCKET),
    "fixtures/CKV_XACCT_002-key-use-principal-arn-wildcard.yaml": Fixture(KEY),
    "fixtures/CKV_XACCT_002-key-use-to-account-roots.yaml": Fixture(KEY),
    "fixtures/CKV_XACCT_003-pipeline-role-key-admin.yaml": Fixture(KEY),
    "fixtures/CKV_XACCT_004-pipeline-role-trusts-account-roots.yaml": Fixture(TRUST),
    "fixtures/CKV_XACCT_004-source-repo-role-trusts-account.yaml": Fixture(TRUST),
    "fixtures/CKV_XACCT_006-tls-deny-objects-only.yaml": Fixture(TLS),
    "fixtures/CKV_XACCT_011-cfn-role-reused-for-sagemaker.yaml": Fixture(TRUST),
    # The foreign account the fault trusts is none of the deployment's: the proof asks the
    # local target for it (HARNESS_LOCAL_EXTRA_ACCOUNTS), and the replay acts as its role.
    "fixtures/CKV_XACCT_013-hardcoded-foreign-account.yaml": Fixture(TRUST),
    "proof_fixtures/PROOF_ENCRYPTION-any-key.yaml": Fixture(BUCKET),
    "proof_fixtures/PROOF_ENCRYPTION-kms-not-required.yaml": Fixture(BUCKET),
    "proof_fixtures/PROOF_ENCRYPTION-only-headerless-puts-denied.yaml": Fixture(BUCKET),
    "proof_fixtures/PROOF_OBJECT_ACCESS-any-arn-reads.yaml": Fixture(READ),
    "proof_fixtures/PROOF_OBJECT_ACCESS-everyone-reads.yaml": Fixture(READ),
    "proof_fixtures/PROOF_OBJECT_ACCESS-notprincipal-reads.yaml": Fixture(READ),
    "proof_fixtures/PROOF_TLS-deny-for-own-account-only.yaml": Fixture(TLS),
    "proof_fixtures/PROOF_TLS-objects-written-as-notresource.yaml": Fixture(TLS),
}


@dataclass(frozen=True)
class Outcome:
    status: str  # passed, failed, error or skipped
    message: str


def _outcomes(junit: Path) -> dict[str, dict[str, Outcome]]:
    """Replay module -> case id -> what became of it, from the JUnit file."""
    found: dict[str, dict[str, Outcome]] = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        status, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            problem = case.find(tag)
            if problem is not None:
                status = "failed" if tag == "failure" else tag
                message = problem.get("message", "") + (problem.text or "")
        found.setdefault(module, {})[case.get("name", "")] = Outcome(status, message)
    return found


def _run(
    *args: str, timeout: int, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else {**os.environ, **env},
    )


def _accounts_asked(output: str) -> str:
    """The accounts the proof's replay commands ask the local target for."""
    asked = re.findall(rf"^replay: {EXTRA_ACCOUNTS}=(\S+) ", output, re.M)
    return ",".join(sorted({a for found in asked for a in found.split(",")}))


@pytest.fixture(scope="module")
def proven(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict], str]:
    """``harness prove`` on the fixtures: its report folder, ``prove.json`` and output."""
    report = tmp_path_factory.mktemp("prove")
    paths = [str(GATE / name) for name in DRILLS]
    done = _run("-m", "harness.cli", "prove", *paths, "--report", str(report), timeout=600)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    return report, json.loads((report / "prove.json").read_text()), done.stdout


@pytest.fixture(scope="module")
def replayed(proven: tuple[Path, list[dict], str]) -> dict[str, dict[str, Outcome]]:
    """Every replay module the proof wrote, run on one local deployment."""
    report, _, output = proven
    modules = sorted(str(p) for p in report.glob("test_counterexamples_*.py"))
    junit = report / "replay" / "junit.xml"
    plugin = "-m pytest -p harness.pytest_plugin -p no:cacheprovider -q --target local"
    reports = ["--junitxml", str(junit), "--harness-report", str(report / "replay")]
    accounts = {EXTRA_ACCOUNTS: _accounts_asked(output)}
    done = _run(*plugin.split(), "--allow-unproven", *reports, *modules, timeout=900, env=accounts)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    summary = (report / "replay" / "summary.md").read_text()
    assert summary.rstrip().endswith("## Teardown\n\n- nothing left"), summary[-2000:]
    return _outcomes(junit)


def _module(name: str) -> str:
    """The replay module ``harness prove`` names after a fixture."""
    return "test_counterexamples_" + re.sub(r"[^A-Za-z0-9]+", "_", Path(name).stem).lower()


@pytest.mark.parametrize("name", sorted(DRILLS))
def test_the_proof_fails_the_fixture_with_a_counterexample(
    name: str, proven: tuple[Path, list[dict], str]
) -> None:
    report, document, output = proven
    [proof] = [p for p in document if Path(p["source"].split(" ")[0]).name == Path(name).name]
    failed = [r for r in proof["results"] if r["verdict"] == "FAILED"]
    assert DRILLS[name].groups <= {r["group"] for r in failed}, proof["results"]
    assert all(r["examples"] for r in failed), "every failing property shows its request"
    assert (report / f"{_module(name)}.py").is_file(), output[-3000:]


def test_the_proof_asks_the_local_target_for_the_foreign_account(
    proven: tuple[Path, list[dict], str],
) -> None:
    assert _accounts_asked(proven[2]) == "444455556666", proven[2][-3000:]


@pytest.mark.parametrize("name", sorted(DRILLS))
def test_the_replay_confirms_every_counterexample_on_local(
    name: str, replayed: dict[str, dict[str, Outcome]]
) -> None:
    """Each case the target can make fails as confirmed. A case is skipped only for a kind
    of principal no replay acts as (an IAM user, a federated user: the local target issues
    no credentials for them), never for an account the target lacks."""
    cases = replayed[_module(name)]
    made = {i: o for i, o in cases.items() if o.status != "skipped"}
    assert made, f"no counterexample of {name} could be made live: {cases}"
    for case, outcome in made.items():
        assert outcome.status == "failed" and outcome.message.startswith(
            "AssertionError: confirmed: the proof's counterexample"
        ), f"{case} {outcome.status}: {outcome.message[:2000]}"
    for case, outcome in cases.items():
        if outcome.status == "skipped":
            assert re.search(
                r"no replay for \S+ as arn:aws:(iam::\d+:user|sts::\d+:federated-user)/",
                outcome.message,
            ), f"{case}: {outcome.message[:2000]}"


def test_the_foreign_account_counterexample_is_made_live(
    replayed: dict[str, dict[str, Outcome]],
) -> None:
    cases = replayed[_module("fixtures/CKV_XACCT_013-hardcoded-foreign-account.yaml")]
    assert cases and {o.status for o in cases.values()} == {"failed"}, cases
