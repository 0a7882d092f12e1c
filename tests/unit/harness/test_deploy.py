"""Deploy and teardown on the embedded target: what is created, that teardown is complete and
idempotent, that errors name the stack, and how each principal's session is obtained."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.deploy import DeployError, Deployment, Settings, deploy, make_target, teardown
from harness.deploy.deploy import template_path
from harness.deploy.principals import Missing, PrincipalSessions, Unavailable
from harness.targets.local import LocalTarget
from harness.templates import ACCOUNT_TEMPLATES, load_template

ACCOUNTS = {
    "shared-services": "710000000001",
    "training": "710000000002",
    "production": "710000000003",
}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(ACCOUNTS, workdir=tmp_path_factory.mktemp("deploy")) as started:
        yield started


@pytest.fixture(scope="module")
def deployed(target: LocalTarget) -> Iterator[Deployment]:
    settings = Settings.for_target(target, "unit")
    deployment = deploy(target, settings)
    yield deployment
    teardown(target, settings)


def test_make_target_by_name() -> None:
    made = make_target("local")
    assert isinstance(made, LocalTarget)
    with pytest.raises(ValueError, match="known targets: aws, local, localstack"):
        make_target("nowhere")


def test_replacement_templates_are_taken_by_account_name(tmp_path: Path) -> None:
    (tmp_path / "training.json").write_text("{}")
    assert template_path("training", tmp_path) == tmp_path / "training.json"
    assert template_path("production", tmp_path) == ACCOUNT_TEMPLATES["production"]


def test_deploy_wires_everything_a_run_needs(target: LocalTarget, deployed: Deployment) -> None:
    assert deployed.wiring.ArtifactKeyArn == deployed.outputs["shared-services"]["ArtifactKeyArn"]
    assert deployed.other_key_arn and deployed.other_key_arn != deployed.key_arn
    assert deployed.commit_id, "the source bundle was pushed to main"
    s3 = target.client("s3", target.session("shared-services"))
    for key in deployed.data_keys.values():
        head = s3.list_objects_v2(Bucket=deployed.bucket, Prefix=key)["Contents"]
        assert head[0]["Key"] == key
    iam = target.client("iam", target.session("production"))
    assert (
        iam.get_role(RoleName="unit-canary-admin")["Role"]["Arn"]
        == deployed.canary_arns["production"]
    )
    pipeline = target.client("codepipeline", target.session("shared-services"))
    assert pipeline.get_pipeline(name="unit")["pipeline"]["roleArn"] == (
        deployed.wiring.PipelineRoleArn
    )


def test_sessions_are_obtained_as_each_principal_really_gets_them(
    target: LocalTarget, deployed: Deployment
) -> None:
    sessions = PrincipalSessions(target, deployed.deployer_arns)
    b_action = deployed.outputs["training"]["PipelineActionRoleArn"]
    identity = target.client("sts", sessions.session(b_action)).get_caller_identity()
    assert identity["Arn"].startswith("arn:aws:sts::710000000002:assumed-role/unit-b-pipeline-")
    hosting = deployed.outputs["production"]["SageMakerHostingRoleArn"]
    identity = target.client("sts", sessions.session(hosting)).get_caller_identity()
    assert identity["Arn"].endswith("unit-c-sagemaker-hosting/sagemaker")
    with pytest.raises(Unavailable, match="not an account of this target"):
        sessions.session("arn:aws:iam::999999999999:role/outsider")
    with pytest.raises(Missing, match="unit-missing does not exist: the deployment did not"):
        sessions.session("arn:aws:iam::710000000001:role/unit-missing")
    deployer = deployed.deployer_arns["training"]
    identity = target.client("sts", sessions.session(deployer)).get_caller_identity()
    assert identity["Arn"].startswith("arn:aws:sts::710000000002:assumed-role/harness-deployer/")


def test_teardown_removes_everything_and_can_repeat(
    target: LocalTarget, deployed: Deployment
) -> None:
    """Last of the tests on ``deployed``; its finalizer's teardown then repeats this one."""
    first = teardown(target, deployed.settings)
    assert first.clean, first
    second = teardown(target, deployed.settings)
    assert second.clean, second


def test_a_failed_stack_names_itself_and_nothing_is_left(
    target: LocalTarget, tmp_path: Path
) -> None:
    template = load_template(ACCOUNT_TEMPLATES["training"])
    template["Resources"]["Broken"] = {"Type": "AWS::Nothing::Here", "Properties": {}}
    (tmp_path / "training.json").write_text(json.dumps(template))
    settings = Settings.for_target(target, "broken")
    with pytest.raises(DeployError, match="stack broken-training-roles in training"):
        deploy(target, settings, templates=tmp_path)
    report = teardown(target, settings)
    assert report.left == [], report
