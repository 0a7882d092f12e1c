"""The rule helpers behind the checks, on values shaped as checkov and cfn-lint hand them over.

These run without checkov (main virtualenv too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.gate.cfn_values import render, strip_markers
from harness.gate.checkov_runner import CheckovError, load_skips
from harness.gate.document_checks import pins_account_id
from harness.gate.iam import (
    KMS_ADMIN_ACTIONS,
    KMS_USE_ACTIONS,
    allows,
    arn_service,
    arn_services,
    is_account_principal,
    is_valid_action,
    matching_actions,
    restricts_principal_arn,
)
from harness.gate.sources import load
from harness.gate.text_rules import alias_artifact_keys, is_unpinned_image, placeholders

SUB_ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${TrainingAccountId}:root"}


def test_render_keeps_literal_parts_and_marks_unknowns() -> None:
    assert render({"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*"}) == (
        "arn:${AWS::Partition}:s3:::${Bucket}/*"
    )
    assert render({"Fn::GetAtt": ["Key", "Arn"], "__startline__": 3}) == "${Key.Arn}"
    assert render({"Fn::Join": ["", ["arn:aws:s3:::", {"Ref": "B"}]]}) == "arn:aws:s3:::${B}"
    assert render({"Fn::Sub": ["${R}.dkr", {"R": {"Fn::FindInMap": ["M", "k", "v"]}}]}) == (
        "${?}.dkr"
    )
    assert strip_markers({"a": [{"b": 1, "__file__": "x"}], "__endline__": 2}) == {"a": [{"b": 1}]}


@pytest.mark.parametrize(
    ("action", "valid"),
    [
        ("kms:ReEncrypt", False),
        ("kms:ReEncryptFrom", True),
        ("kms:ReEncrypt*", True),
        ("KMS:decrypt", True),
        ("s3:*", True),
        ("*", True),
        ("nosuchservice:Get", False),
        ("sts:AssumeRole*", True),
        ("codecommit:GitPull", True),
        ("s3:GetObjects", False),
    ],
)
def test_actions_are_validated_against_the_iam_reference(action: str, valid: bool) -> None:
    assert is_valid_action(action) is valid


def test_kms_action_classes_name_real_actions() -> None:
    for action in (*KMS_USE_ACTIONS, *KMS_ADMIN_ACTIONS):
        assert matching_actions(action) == [action.lower()], action


def test_resource_services_of_actions_come_from_arn_formats() -> None:
    assert arn_services("sts:AssumeRole") == {"iam"}
    assert arn_services("codecommit:GitPull") == {"codecommit"}
    assert arn_services("kms:CreateKey") is None  # applies to "*" only
    assert arn_service("arn:${AWS::Partition}:s3:::${Bucket}") == "s3"
    assert arn_service("${Bucket.Arn}/*") is None


def test_allows_honours_wildcards_and_not_action() -> None:
    assert allows({"Effect": "Allow", "Action": "kms:Create*"}, "kms:CreateGrant")
    assert not allows({"Effect": "Deny", "Action": "*"}, "kms:Decrypt")
    assert allows({"Effect": "Allow", "NotAction": "iam:*"}, "kms:Decrypt")
    assert not allows({"Effect": "Allow", "NotAction": ["kms:*"]}, "kms:Decrypt")


@pytest.mark.parametrize(
    ("principal", "account"),
    [
        ("*", True),
        ("111122223333", True),
        ("arn:aws:iam::111122223333:root", True),
        (render(SUB_ROOT), True),
        ("${TrainingAccountId}", True),
        ("arn:aws:iam::111122223333:role/x", False),
        ("${PipelineRole.Arn}", False),
    ],
)
def test_account_principals(principal: str, account: bool) -> None:
    assert is_account_principal(principal) is account


def _statement(values: object, operator: str = "ArnEquals") -> dict[str, object]:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": SUB_ROOT},
        "Action": "kms:Decrypt",
        "Condition": {operator: {"aws:PrincipalArn": values}},
    }


def test_principal_arn_condition_must_name_exact_roles() -> None:
    role = {"Fn::Sub": "arn:${AWS::Partition}:iam::${TrainingAccountId}:role/${Prefix}-b-x"}
    assert restricts_principal_arn(_statement([role]))
    assert restricts_principal_arn(_statement("arn:aws:iam::111122223333:role/a", "StringEquals"))
    assert not restricts_principal_arn(_statement("arn:aws:iam::111122223333:role/*", "ArnLike"))
    assert not restricts_principal_arn(_statement("arn:aws:iam::111122223333:root"))
    assert not restricts_principal_arn(_statement([role], "ArnNotEquals"))
    assert not restricts_principal_arn({"Effect": "Allow", "Action": "kms:Decrypt"})


@pytest.mark.parametrize(
    ("image", "unpinned"),
    [
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", False),
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest", True),
        ("registry:5000/xgboost", True),
        ("xgboost@sha256:abc", False),
        ("${Registry}/sagemaker-xgboost:${Tag}", False),
        ("${TrainingImage}", False),
    ],
)
def test_image_pinning(image: str, unpinned: bool) -> None:
    assert is_unpinned_image(image) is unpinned


@pytest.mark.parametrize(
    ("parameter", "pinned"),
    [
        ({"AllowedPattern": "^\\d{12}$"}, True),
        ({"AllowedPattern": "[0-9]{12}"}, True),
        ({"AllowedPattern": "[0-9]+"}, False),
        ({"AllowedPattern": "\\d{12}.*"}, False),
        ({"AllowedPattern": "("}, False),
        ({}, False),
        ({"AllowedValues": ["111122223333"]}, True),
        ({"AllowedValues": ["1111"]}, False),
    ],
)
def test_account_parameter_pattern(parameter: dict[str, object], pinned: bool) -> None:
    assert pins_account_id(parameter) is pinned


def test_placeholders_are_single_words_in_angle_brackets() -> None:
    text = {"a": ["arn:aws:iam::<ACCOUNT_ID>:role/<your-role>", "named Prefix-<action id>"]}
    assert placeholders(text) == ["<ACCOUNT_ID>", "<your-role>"]


def test_alias_keys_in_both_pipeline_spellings() -> None:
    cfn = {
        "ArtifactStores": [
            {
                "Region": "us-east-1",
                "ArtifactStore": {
                    "EncryptionKey": {"Id": {"Fn::Sub": "arn:aws:kms:r:${AWS::AccountId}:alias/a"}}
                },
            }
        ]
    }
    api = {
        "artifactStores": {"us-east-1": {"encryptionKey": {"id": "alias/a"}}},
        "artifactStore": {"encryptionKey": {"id": "arn:aws:kms:r:1:key/k"}},
    }
    assert alias_artifact_keys(cfn) == [
        "ArtifactStores[0].EncryptionKey.Id: arn:aws:kms:r:${AWS::AccountId}:alias/a"
    ]
    assert alias_artifact_keys(api) == ["artifactStores[us-east-1].EncryptionKey.Id: alias/a"]


def test_skips_need_a_reason(tmp_path: Path) -> None:
    skips = tmp_path / "skips.yaml"
    skips.write_text("skips:\n  - id: CKV_AWS_1\n    reason: does not apply\n")
    assert load_skips(skips) == {"CKV_AWS_1": "does not apply"}
    skips.write_text("skips:\n  - id: CKV_AWS_1\n")
    with pytest.raises(CheckovError, match="CKV_AWS_1 has no reason"):
        load_skips(skips)


def test_documents_are_classified(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("Resources:\n  B: {Type: AWS::S3::Bucket}\n")
    (tmp_path / "p.json").write_text('{"pipeline": {"name": "p", "stages": []}}')
    (tmp_path / "data.json").write_text('{"max_depth": 5}')
    (tmp_path / "bad.yaml").write_text("a: [\n")
    kinds = {p.name: getattr(load(p), "kind", None) for p in tmp_path.iterdir()}
    assert kinds == {
        "t.yaml": "template",
        "p.json": "pipeline",
        "data.json": None,
        "bad.yaml": "unreadable",
    }
