"""The render step: every value wired from outputs, nothing unresolved can be written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.render import (
    PIPELINE_DIR,
    RenderError,
    Wiring,
    render,
    render_pipeline,
    render_source_bundle,
    render_training_config,
)
from harness.templates import load_template
from tests.unit.wiring import KEY_ARN, SETTINGS, A, B, C, stack_outputs


@pytest.fixture
def wiring() -> Wiring:
    return Wiring.from_outputs(SETTINGS, stack_outputs())


def test_pipeline_renders_to_valid_create_pipeline_input(wiring: Wiring) -> None:
    request = render_pipeline(wiring)
    pipeline = request["pipeline"]
    assert pipeline["roleArn"] == f"arn:aws:iam::{A}:role/mlops-pipeline"
    assert pipeline["artifactStore"]["encryptionKey"] == {"id": KEY_ARN, "type": "KMS"}
    stages = [s["name"] for s in pipeline["stages"]]
    assert stages == ["Source", "DeployTrainingStack", "Train", "Approve", "Deploy"]
    roles = {s["name"]: s["actions"][0].get("roleArn") for s in pipeline["stages"]}
    assert roles["DeployTrainingStack"] == f"arn:aws:iam::{B}:role/mlops-b-pipeline-action"
    assert roles["Train"] == roles["DeployTrainingStack"]
    assert roles["Deploy"] == f"arn:aws:iam::{C}:role/mlops-c-pipeline-action"
    assert "${" not in json.dumps(request)
    # CodePipeline's own variables are left for CodePipeline to resolve.
    train = pipeline["stages"][2]["actions"][0]
    assert train["configuration"]["StateMachineArn"] == "#{TrainingStack.StateMachineArn}"


def test_missing_output_is_named(wiring: Wiring) -> None:
    outputs = stack_outputs()
    del outputs["training"]["CloudFormationRoleArn"]
    with pytest.raises(RenderError) as err:
        Wiring.from_outputs(SETTINGS, outputs)
    message = str(err.value)
    assert "CloudFormationRoleArn" in message and "'training'" in message
    assert "${TrainingCloudFormationRoleArn}" in message


def test_missing_stack_is_named() -> None:
    outputs = stack_outputs()
    del outputs["production"]
    with pytest.raises(RenderError, match="no outputs for stack 'production'"):
        Wiring.from_outputs(SETTINGS, outputs)


def test_alias_arn_is_refused_as_artifact_key() -> None:
    outputs = stack_outputs()
    outputs["shared-services"]["ArtifactKeyArn"] = f"arn:aws:kms:us-east-1:{A}:alias/mlops"
    with pytest.raises(RenderError, match="alias ARN does not work across accounts"):
        Wiring.from_outputs(SETTINGS, outputs)


def test_unknown_token_is_an_error_naming_file_and_path(wiring: Wiring) -> None:
    with pytest.raises(RenderError) as err:
        render({"a": [{"b": "${NoSuchOutput}"}]}, wiring, "pipeline.json")
    assert "pipeline.json: $.a[0].b: ${NoSuchOutput}" in str(err.value)


def test_hand_edit_placeholder_is_refused(wiring: Wiring) -> None:
    with pytest.raises(RenderError, match="hand-edit placeholder"):
        render({"RoleArn": "arn:aws:iam::<ACCOUNT_ID>:role/x"}, wiring, "sfn.json")


def test_invalid_pipeline_is_reported_against_botocore_model(
    wiring: Wiring, tmp_path: Path
) -> None:
    bad = json.loads((PIPELINE_DIR / "pipeline.json").read_text())
    del bad["pipeline"]["stages"][0]["actions"][0]["actionTypeId"]["version"]
    (tmp_path / "pipeline.json").write_text(json.dumps(bad))
    with pytest.raises(RenderError, match="not valid CreatePipeline input"):
        render_pipeline(wiring, tmp_path)


def test_training_config_covers_every_template_parameter(wiring: Wiring) -> None:
    config = render_training_config(wiring)
    declared = load_template(PIPELINE_DIR / "training-stack.yaml")["Parameters"]
    required = {n for n, spec in declared.items() if "Default" not in spec}
    assert required <= set(config["Parameters"])
    assert config["Parameters"]["ArtifactKeyArn"] == KEY_ARN


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.pop("TrainingRoleArn"), "no value for parameter TrainingRoleArn"),
        (lambda p: p.update(Extra="x"), "parameter Extra is not declared"),
        (lambda p: p.update(TrainingInstanceType="ml.p4d.24xlarge"), "is not one of"),
    ],
)
def test_training_config_mismatch_is_named(
    wiring: Wiring, tmp_path: Path, edit, message: str
) -> None:
    for name in ("training-stack.yaml", "training-input.json"):
        shutil.copy(PIPELINE_DIR / name, tmp_path / name)
    config = json.loads((PIPELINE_DIR / "training-stack.config.json").read_text())
    edit(config["Parameters"])
    (tmp_path / "training-stack.config.json").write_text(json.dumps(config))
    with pytest.raises(RenderError, match=message):
        render_training_config(wiring, tmp_path)


def test_source_bundle_holds_what_the_pipeline_reads(wiring: Wiring, tmp_path: Path) -> None:
    written = render_source_bundle(wiring, tmp_path / "src")
    names = sorted(p.name for p in written)
    assert names == ["training-input.json", "training-stack.config.json", "training-stack.yaml"]
    pipeline = render_pipeline(wiring)["pipeline"]
    deploy = pipeline["stages"][1]["actions"][0]["configuration"]
    for ref in (deploy["TemplatePath"], deploy["TemplateConfiguration"]):
        assert (tmp_path / "src" / ref.split("::", 1)[1]).is_file()
    train = pipeline["stages"][2]["actions"][0]["configuration"]
    hyper = json.loads((tmp_path / "src" / train["Input"]).read_text())["hyperparameters"]
    assert hyper["objective"] == "binary:logistic"
    assert all(isinstance(v, str) for v in hyper.values())  # SageMaker wants strings
