"""The image table: pinned versions, AWS-owned registries, and agreement with infra/."""

from __future__ import annotations

import pytest
from cfnlint.decode import decode

from harness.runtimes.images import UnsupportedImageError, registry_accounts, resolve_image
from tests.unit.runtimes.conftest import IMAGE, INFRA


def test_registries_match_the_training_stack_mapping() -> None:
    template, errors = decode(str(INFRA / "pipeline" / "training-stack.yaml"))
    assert not errors and template is not None
    mapping = template["Mappings"]["XGBoostRegistry"]

    assert registry_accounts("sagemaker-xgboost") == {
        region: entry["Account"] for region, entry in mapping.items()
    }


def test_the_pinned_image_resolves_to_the_xgboost_algorithm() -> None:
    image = resolve_image(IMAGE, "us-east-1")

    assert (image.repository, image.tag) == ("sagemaker-xgboost", "1.7-1")
    assert image.training_module == "xgboost_algorithm"
    assert (
        resolve_image(
            IMAGE.replace("us-east-1", "eu-west-1").replace("683313688378", "141502667606"),
            "eu-west-1",
        ).tag
        == "1.7-1"
    )


@pytest.mark.parametrize(
    ("uri", "region", "reason"),
    [
        (IMAGE.replace(":1.7-1", ":latest"), "us-east-1", "use a pinned tag: 1.7-1"),
        (IMAGE.replace(":1.7-1", ""), "us-east-1", "use a pinned tag"),
        (IMAGE + "@sha256:" + "0" * 64, "us-east-1", "use a pinned tag"),
        (IMAGE.replace("683313688378", "111111111111"), "us-east-1", "account 683313688378"),
        (IMAGE, "eu-west-1", "not the job's region eu-west-1"),
        (IMAGE.replace("sagemaker-xgboost", "xgboost"), "us-east-1", "not a supported algorithm"),
        ("docker.io/library/python:3.12", "us-east-1", "not an Amazon ECR image URI"),
    ],
)
def test_other_images_are_refused_with_the_reason(uri: str, region: str, reason: str) -> None:
    with pytest.raises(UnsupportedImageError, match=reason.replace(".", r"\.")):
        resolve_image(uri, region)
