"""``harness prove`` with the SCPs (``--scp``) and permissions boundaries that hold for a
system: a property that holds only because of one is proven with it, and a counterexample
names the SCP or boundary statement that decides it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.allowlist import DEFAULT_ACCOUNTS, static_bindings
from harness.deploy.guardrails import read_scp
from harness.proof import Variant, Verdict
from harness.prove import main
from harness.prove.proofs import Proof, of_files, project_path

FIXTURES = project_path("tests", "gate", "fixtures")
ROOTS = FIXTURES / "CKV_XACCT_002-key-use-to-account-roots.yaml"
B, C = DEFAULT_ACCOUNTS["B"], DEFAULT_ACCOUNTS["C"]


def _listed_roles() -> list[str]:
    """The allow-list's roles in B and C (those an SCP keeps the key for)."""
    text = project_path("policies", "access", "allowlist.yaml").read_text()
    for name, value in static_bindings(DEFAULT_ACCOUNTS).items():
        text = text.replace(f"${{{name}}}", value)
    principals = yaml.safe_load(text.replace("${Prefix}", "mlops"))["principals"]
    return [p["arn"] for p in principals.values() if p["arn"].split(":")[4] in (B, C)]


def _scp(tmp_path: Path, name: str, statements: list[dict]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2))
    return path


def _failed(proof: Proof, group: str) -> dict[tuple[str, Variant], object]:
    return {
        (r.property.id, r.variant): r
        for r in proof.results
        if r.property.group == group and r.verdict is Verdict.FAILED
    }


def test_key_use_held_only_by_an_scp_is_proven_with_it(tmp_path: Path) -> None:
    [without] = of_files([ROOTS], only=["key-use"], limit=1)
    others = {k for k in _failed(without, "key-use") if k[0].endswith("/others")}
    assert others, "the fault lets other principals of B and C use the key"
    scp = _scp(
        tmp_path,
        "keep-the-key.json",
        [
            {
                "Sid": "KeyOnlyForListedRoles",
                "Effect": "Deny",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": _listed_roles()}},
            }
        ],
    )
    [guarded] = of_files([ROOTS], only=["key-use"], limit=1, scps=[read_scp(scp)])
    assert not others & set(_failed(guarded, "key-use")), "the SCP keeps every other out"
    proven = [r for r in guarded.results if r.verdict is Verdict.PROVEN]
    assert all("keep-the-key.json attached to accounts" in r.assumptions[0] for r in proven)


def test_a_counterexample_names_the_scp_statement_that_denies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scp = _scp(
        tmp_path,
        "no-decrypt.json",
        [{"Sid": "NoDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}],
    )
    report = tmp_path / "report"
    infra = str(project_path("infra"))
    assert main([infra, "--only", "liveness", "--scp", str(scp), "--report", str(report)]) == 1
    output = capsys.readouterr().out
    assert "FAILED  liveness/key/production-deploy-function-role/kms:Decrypt" in output
    assert f"denied by statement 'NoDecrypt' of SCP no-decrypt.json ({scp}:4)" in output
    # A, the management account, is exempt: its pipeline role still decrypts
    assert "liveness/key/pipeline-role/kms:Decrypt" not in output


def test_a_bad_scp_file_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scp = tmp_path / "with-principal.json"
    scp.write_text(json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*"}]}))
    assert main(["infra", "--scp", str(scp), "--report", str(tmp_path / "report")]) == 2
    assert f"--scp {scp}" in capsys.readouterr().err


_BOUNDED = """
Parameters:
  TrainingAccountId: {{Type: String}}
  ProductionAccountId: {{Type: String}}
Resources:
{key}
  DeployFunctionRole:
    Type: AWS::IAM::Role
    Properties:
      {boundary}
      Policies:
        - PolicyName: everything-with-the-key
          PolicyDocument:
            Statement: [{{Effect: Allow, Action: "kms:*", Resource: "*"}}]
  DeployFunctionBoundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - {{Sid: OnlyDecrypt, Effect: Allow, Action: kms:Decrypt, Resource: "*"}}
          - {{Sid: AnythingElse, Effect: Allow, NotAction: "kms:*", Resource: "*"}}
"""


def _bounded(tmp_path: Path, bounded: bool) -> Path:
    """The key granted to the account roots, and the deploy function's role allowed every
    KMS action by its own policy, with or without a boundary that keeps only Decrypt."""
    key = ROOTS.read_text().split("Resources:\n", 1)[1]
    boundary = "PermissionsBoundary: !Ref DeployFunctionBoundary" if bounded else ""
    path = tmp_path / f"bounded-{bounded}.yaml"
    path.write_text(_BOUNDED.format(key=key.rstrip(), boundary=boundary))
    return path


def test_key_use_held_only_by_a_boundary_is_proven_with_it(tmp_path: Path) -> None:
    claim = ("key-use/kms:Encrypt/production-deploy-function-role", Variant.DEPLOYED)
    [unbounded] = of_files([_bounded(tmp_path, False)], only=["key-use"], limit=1)
    assert claim in _failed(unbounded, "key-use")
    [bounded] = of_files([_bounded(tmp_path, True)], only=["key-use"], limit=1)
    assert claim not in _failed(bounded, "key-use")
    assert claim[0] in {r.property.id for r in unbounded.results}
