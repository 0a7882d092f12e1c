"""Templates rendered as a deployment wires them; fragments put into the infra; every
policy statement located at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.prove.proofs import _infra, account_templates, project_path
from harness.prove.rendered import CannotRender, Renderer

FIXTURES = project_path("tests", "gate", "fixtures")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(account_templates())


def test_the_infra_renders_whole_with_every_role(renderer: Renderer) -> None:
    rendered = renderer.infra()
    system = rendered.system
    assert system.whole and system.key_policy and system.bucket_policy
    assert system.key_arn.startswith("arn:aws:kms:us-east-1:111111111111:key/")
    names = {role.arn.rsplit("/", 1)[-1] for role in system.roles}
    assert {"mlops-pipeline", "mlops-b-sagemaker-training", "mlops-c-deploy-function"} <= names
    assert rendered.bindings[system.key_arn] == "${KeyArn}"


def test_statements_are_located_at_their_lines(renderer: Renderer) -> None:
    rendered = renderer.infra()
    where = rendered.locations["key policy"]
    lines = where.file.read_text().splitlines()
    assert where.file.name == "shared-services.yaml"
    assert "Sid: KeyAdministrationByThisAccount" in lines[where.statements[0] - 1]
    assert "Sid: KeyUseByPipelineRoles" in lines[where.statements[1] - 1]


def test_a_fragment_replaces_only_the_properties_it_sets(renderer: Renderer) -> None:
    fixture = FIXTURES / "CKV_XACCT_004-pipeline-role-trusts-account-roots.yaml"
    rendered = renderer.with_fragment(fixture)
    assert rendered is not None and not rendered.system.whole
    role = rendered.system.role("arn:aws:iam::111111111111:role/mlops-pipeline")
    assert role is not None, "the infra's RoleName is kept"
    assert len(role.trust.policy.statements) == 2 and role.identity, "its policies are kept"
    assert rendered.locations[role.trust.name].file == fixture
    assert rendered.locations["key policy"].file.name == "shared-services.yaml"


def test_a_role_arn_by_getatt_does_not_close_a_cycle(renderer: Renderer) -> None:
    rendered = renderer.with_fragment(FIXTURES / "CKV_XACCT_003-pipeline-role-key-admin.yaml")
    assert rendered is not None and rendered.system.key_policy is not None
    named = str(rendered.system.key_policy.text)
    assert "arn:aws:iam::111111111111:role/mlops-pipeline" in named


def test_a_new_role_joins_the_account_it_belongs_to(renderer: Renderer) -> None:
    rendered = renderer.with_fragment(
        FIXTURES / "CKV_XACCT_004-source-repo-role-trusts-account.yaml"
    )
    assert rendered is not None
    new = [r for r in rendered.system.roles if "SourceRepositoryRole" in r.arn]
    assert len(new) == 1 and ":111111111111:" in new[0].arn


def test_fragments_without_policies_are_not_proven(renderer: Renderer) -> None:
    assert renderer.with_fragment(FIXTURES / "CKV_XACCT_014-lambda-python36.yaml") is None


def test_a_parameter_the_infra_has_no_value_for_is_named(
    renderer: Renderer, tmp_path: Path
) -> None:
    fragment = tmp_path / "fragment.yaml"
    fragment.write_text(
        "Parameters:\n  Mystery: {Type: String}\nResources:\n  PipelineRole:\n"
        "    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n"
        "        Statement: [{Effect: Allow, Principal: {AWS: !Ref Mystery},\n"
        "                     Action: 'sts:AssumeRole'}]\n"
    )
    with pytest.raises(CannotRender, match="parameter Mystery has no value"):
        renderer.with_fragment(fragment)


def test_the_infra_is_read_once_while_its_files_are_unchanged(tmp_path: Path) -> None:
    templates = {name: tmp_path / path.name for name, path in account_templates().items()}
    for name, path in account_templates().items():
        templates[name].write_bytes(path.read_bytes())
    renderer, allowlist = _infra(templates)
    again = _infra(templates)
    assert again[0] is renderer and again[1] is allowlist
    training = templates["training"]
    training.write_text(training.read_text() + "# changed\n")
    assert _infra(templates)[0] is not renderer, "a changed template is read again"
