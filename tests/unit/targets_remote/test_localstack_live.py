"""The localstack target against a real LocalStack (or LocalEmu) runtime.

Runs where the emulator is installed in this interpreter or reachable (``tox -e localstack``);
elsewhere it is skipped with that reason. Uses no AWS: the runtime listens on loopback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from importlib.util import find_spec

import pytest

from harness.targets.base import Capability
from harness.targets.localstack import LocalStackTarget
from harness.targets.localstack.target import ENDPOINT_VARIABLES, FLAVOUR_VARIABLE, FLAVOURS
from harness.templates import ACCOUNT_TEMPLATES, load_template

FLAVOUR = FLAVOURS[os.environ.get(FLAVOUR_VARIABLE) or "localstack"]
pytestmark = pytest.mark.skipif(
    find_spec(FLAVOUR.package) is None and not any(os.environ.get(v) for v in ENDPOINT_VARIABLES),
    reason=f"{FLAVOUR.package} is not installed here and no emulator is configured "
    "(tox -e localstack runs these)",
)
STACK = {
    "Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
        "Data": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]},
                            }
                        }
                    ]
                }
            },
        },
    },
    "Outputs": {"Bucket": {"Value": {"Ref": "Data"}}, "Key": {"Value": {"Ref": "Key"}}},
}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackTarget]:
    with LocalStackTarget(workdir=tmp_path_factory.mktemp("localstack")) as started:
        yield started


def test_each_access_key_is_its_own_account_with_its_deployer(target):
    for role, account_id in target.accounts.items():
        root = target.client("sts", target.root_session(role)).get_caller_identity()
        assert root["Arn"] == f"arn:aws:iam::{account_id}:root"
        identity = target.client("sts", target.session(role)).get_caller_identity()
        assert identity["Account"] == account_id
        assert ":assumed-role/harness-deployer/" in identity["Arn"]


def test_capabilities_are_what_the_probes_measured(target):
    measured = {r.capability for r in target.probe_results if r.enforced}
    assert target.capabilities == measured
    assert {r.capability for r in target.probe_results} == set(
        LocalStackTarget.measured_capabilities
    )
    if not FLAVOUR.enforcement:  # LocalStack's open build enforces no policy at all
        assert target.capabilities == frozenset()
    assert Capability.RUNS_TRAINING not in target.capabilities


def test_a_stack_deploys_and_is_destroyed(target):
    outputs = target.deploy_stack("shared-services", "harness-live", json.dumps(STACK), {})
    kms = target.client("kms", target.session("shared-services"))
    assert kms.get_key_rotation_status(KeyId=outputs["Key"])["KeyRotationEnabled"] is True
    target.destroy_stack("shared-services", "harness-live")
    cloudformation = target.client("cloudformation", target.session("shared-services"))
    live = [
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ]
    assert "harness-live" not in live


def test_resource_types_without_a_provider_are_named(target):
    shared = load_template(ACCOUNT_TEMPLATES["shared-services"])
    missing = target.unsupported_resource_types(shared)
    assert "AWS::S3::Bucket" not in missing
    assert "AWS::KMS::Key" not in missing
    if find_spec(FLAVOUR.package) is not None:  # known from the emulator's own entry points
        assert missing == ["AWS::CodeCommit::Repository"]
