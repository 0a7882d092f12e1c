"""Template loading and the deploy function's inline packaging."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.templates import ACCOUNT_TEMPLATES, TemplateError, load_template, package


def test_account_templates_load_with_their_tags() -> None:
    a = load_template(ACCOUNT_TEMPLATES["shared-services"])
    key = a["Resources"]["ArtifactKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert isinstance(a["Resources"]["PipelineRole"]["Properties"]["RoleName"], dict)  # !Sub


def test_deploy_function_code_is_inlined_from_its_file() -> None:
    path = ACCOUNT_TEMPLATES["production"]
    packaged = package(load_template(path), path)
    code = packaged["Resources"]["DeployFunction"]["Properties"]["Code"]["ZipFile"]
    source = (path.parent.parent / "lambda" / "deploy_endpoint.py").read_text()
    assert code == source
    assert "def handler(" in code
    # the original template is left untouched
    original = load_template(path)["Resources"]["DeployFunction"]["Properties"]["Code"]
    assert "harness deploy" in original["ZipFile"]


def test_missing_inline_code_file_names_template_and_resource(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Metadata": {"harness": {"inline-code": "nope.py"}},
                "Properties": {},
            }
        }
    }
    with pytest.raises(TemplateError, match=r"t\.yaml: resource Fn: inline-code nope\.py"):
        package(template, tmp_path / "t.yaml")


def test_undecodable_template_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("Resources: [unclosed\n")
    with pytest.raises(TemplateError, match=r"bad\.yaml: cannot decode"):
        load_template(bad)
