"""The access matrix of the project's own rendered infra against the allow-list."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.access import main, project_access
from harness.policy import Policy
from harness.templates import ACCOUNT_TEMPLATES, load_template


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    return {name: load_template(path) for name, path in ACCOUNT_TEMPLATES.items()}


def key_statement(templates: dict[str, dict[str, Any]], sid: str) -> dict[str, Any]:
    policy = templates["shared-services"]["Resources"]["ArtifactKey"]["Properties"]["KeyPolicy"]
    return next(s for s in policy["Statement"] if s["Sid"] == sid)


def test_rendered_infra_matches_the_allowlist(templates) -> None:
    report = project_access(templates=templates)
    assert report.findings == []
    # the matrix really decided something: the pipeline role may write, canaries may not
    assert report.matrix.allowed(
        "arn:aws:iam::111111111111:role/mlops-pipeline", "bucket", "s3:PutObject", "artifact"
    )
    assert not report.matrix.allowed(
        "arn:aws:iam::222222222222:role/mlops-canary-admin",
        "key",
        "kms:Decrypt",
        report.matrix.cells[0].target,
    )


def test_key_granted_to_an_account_root_is_a_finding_naming_the_principals(templates) -> None:
    faulty = copy.deepcopy(templates)
    statement = key_statement(faulty, "KeyUseByPipelineRoles")
    del statement["Condition"]  # the original's fault: key use for whole accounts
    findings = project_access(templates=faulty).findings
    named = {f.subject for f in findings}
    assert {"admin-like role in B", "admin-like role in C", "account B root"} <= named
    canary_b = next(f for f in findings if f.subject == "admin-like role in B")
    assert canary_b.actual and not canary_b.expected
    assert "KeyUseByPipelineRoles" in str(canary_b)


def test_direct_key_use_by_the_data_publisher_needs_both_conditions_gone(templates) -> None:
    faulty = copy.deepcopy(templates)
    del key_statement(faulty, "KeyUseByDataPublisherThroughS3Only")["Condition"]["StringEquals"]
    # defence in depth: its own identity policy still limits it to use through S3
    assert project_access(templates=faulty).findings == []
    publisher = faulty["shared-services"]["Resources"]["DataPublisherRole"]["Properties"]
    statements = publisher["Policies"][0]["PolicyDocument"]["Statement"]
    del next(s for s in statements if s["Sid"] == "EncryptThroughS3")["Condition"]
    findings = project_access(templates=faulty).findings
    assert [(f.subject, f.action) for f in findings] == [
        ("data-publisher-role", "kms:GenerateDataKey")
    ]


def test_a_missing_grant_shows_as_denied_but_expected(templates) -> None:
    faulty = copy.deepcopy(templates)
    readers = key_statement(faulty, "KeyDecryptByProductionReaders")
    readers["Condition"]["ArnEquals"]["aws:PrincipalArn"] = readers["Condition"]["ArnEquals"][
        "aws:PrincipalArn"
    ][:1]  # the hosting role is dropped: the endpoint could not decrypt the model
    findings = project_access(templates=faulty).findings
    assert {(f.subject, f.action, f.expected) for f in findings} == {
        ("production-sagemaker-hosting-role", "kms:Decrypt", True),
        ("production-sagemaker-hosting-role", "s3:GetObject", True),
    }


def test_cli_prints_the_table_and_exits_zero(capsys) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "pipeline-role" in out and "0 finding(s)" in out


def test_cli_refuses_malformed_account_ids(capsys) -> None:
    assert main(["--accounts", "1,2"]) == 2
    err = capsys.readouterr().err
    assert "accounts 1, 2: must be one id for each of A, B, C" in err
    assert "account id of B '2': must be exactly 12 digits" in err


def test_an_scp_on_b_and_c_denies_their_cells_naming_it_and_spares_a(templates) -> None:
    scp = Policy.parse(
        {
            "Statement": [
                {"Sid": "NoDecrypt", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}
            ]
        },
        name="SCP no-decrypt.json",
    )
    findings = project_access(templates=templates, scps=[scp]).findings
    denied = {(f.subject, f.action) for f in findings if f.expected and not f.actual}
    assert ("production-deploy-function-role", "kms:Decrypt") in denied
    assert ("production-sagemaker-hosting-role", "s3:GetObject") in denied  # S3's Decrypt call
    assert not {s for s, _ in denied} & {"pipeline-role", "data-publisher-role"}  # A: exempt
    finding = next(f for f in findings if f.subject == "production-deploy-function-role")
    assert "'NoDecrypt' of SCP no-decrypt.json" in finding.reason
    assert "SCP" in finding.reason.rsplit("[decided by: ", 1)[1]


def test_a_permissions_boundary_from_the_templates_caps_its_role(templates) -> None:
    bounded = copy.deepcopy(templates)
    resources = bounded["production"]["Resources"]
    resources["DeployFunctionBoundary"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "PolicyDocument": {
                "Statement": [
                    {"Sid": "NoKey", "Effect": "Allow", "NotAction": "kms:*", "Resource": "*"}
                ]
            }
        },
    }
    role = resources["DeployFunctionRole"]["Properties"]
    role["PermissionsBoundary"] = {"Ref": "DeployFunctionBoundary"}
    findings = project_access(templates=bounded).findings
    assert {(f.subject, f.action) for f in findings} == {
        ("production-deploy-function-role", "kms:Decrypt"),
        ("production-deploy-function-role", "s3:GetObject"),
    }
    assert all("permissions boundary" in f.reason for f in findings), findings


def test_cli_takes_scp_files_as_harness_run_does(tmp_path, capsys) -> None:
    scp = tmp_path / "no-decrypt.json"
    scp.write_text('{"Statement": [{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]}')
    assert main(["--scp", str(scp)]) == 1
    assert "statement #0 of SCP no-decrypt.json" in capsys.readouterr().out
    scp.write_text("not json")
    assert main(["--scp", str(scp)]) == 2
    assert f"--scp {scp}: not JSON" in capsys.readouterr().err
