"""The aws target's own logic against the embedded local target standing in for AWS.

The aws target gets the local target only as profiles (``conftest.profiles``), the way a
user's ~/.aws would give it real accounts: the code path is the one a real run takes.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
from botocore.exceptions import ClientError

from harness.targets.aws import AwsSettings, AwsTarget, CostLimits, GuardRefused, sweep
from harness.targets.aws.settings import AccountAccess
from harness.targets.aws.sweep import RUN_TAG
from harness.targets.local import LocalTarget

RUN = "hstandin1"
TEMPLATE = {
    "Parameters": {"Prefix": {"Type": "String"}},
    "Resources": {
        "Data": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": {"Fn::Sub": "${Prefix}-data-${AWS::AccountId}"},
                "VersioningConfiguration": {"Status": "Enabled"},
            },
        },
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
        "Worker": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Fn::Sub": "${Prefix}-worker"},
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}
                            },
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
            },
        },
    },
    "Outputs": {
        "Bucket": {"Value": {"Ref": "Data"}},
        "KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}},
    },
}


def _target(
    stand_in: LocalTarget, access: dict[str, AccountAccess], **overrides: object
) -> AwsTarget:
    settings = AwsSettings(
        allowed_accounts=overrides.pop("allowed", dict(stand_in.accounts)),  # type: ignore[arg-type]
        access=access,
        run_id=RUN,
        region=stand_in.region,
        **overrides,  # type: ignore[arg-type]
    )
    said: list[str] = []
    target = AwsTarget(settings, say=said.append)
    target.stack_poll_seconds = 0.1  # the stand-in finishes stacks in milliseconds
    target.said = said  # type: ignore[attr-defined]
    return target


def _deploy(target: AwsTarget, account: str = "shared-services") -> dict[str, str]:
    return target.deploy_stack(account, f"{RUN}-data", json.dumps(TEMPLATE), {"Prefix": RUN})


def test_a_wrong_account_id_refuses_to_start(stand_in, profiles):
    allowed = dict(stand_in.accounts) | {"training": "999999999999"}
    target = _target(stand_in, profiles, allowed=allowed)
    with pytest.raises(GuardRefused, match="training: credentials are for 222222222222"):
        target.start()
    assert target.said == []  # nothing planned, nothing created
    with pytest.raises(RuntimeError, match="not started"):
        _deploy(target)


def test_an_account_without_usable_credentials_refuses_to_start(stand_in, profiles):
    access = dict(profiles) | {"production": AccountAccess(profile="missing")}
    with pytest.raises(GuardRefused, match="no usable credentials for production"):
        _target(stand_in, access).start()


def test_start_names_what_it_will_create(stand_in, profiles):
    target = _target(stand_in, profiles)
    with target:
        assert (
            target.client("sts", target.session("production")).get_caller_identity()["Account"]
            == stand_in.accounts["production"]
        )
    assert f"named {RUN}-*" in target.said[0]
    assert f"{RUN_TAG}={RUN}" in target.said[0]


def test_names_without_the_run_id_are_refused(stand_in, profiles):
    with _target(stand_in, profiles) as target:
        with pytest.raises(GuardRefused, match="run id"):
            target.deploy_stack("shared-services", "data", json.dumps(TEMPLATE), {"Prefix": RUN})
        with pytest.raises(GuardRefused, match="run id"):
            target.deploy_stack(
                "shared-services", f"{RUN}-data", json.dumps(TEMPLATE), {"Prefix": "mlops"}
            )


def test_cost_guard_refuses_before_creating(stand_in, profiles):
    priced = json.loads(json.dumps(TEMPLATE))
    priced["Parameters"]["EndpointInstanceType"] = {"Type": "String", "Default": "ml.p4d.24xlarge"}
    with _target(stand_in, profiles) as target:
        with pytest.raises(GuardRefused, match=r"ml\.p4d\.24xlarge"):
            target.deploy_stack("production", f"{RUN}-priced", json.dumps(priced), {"Prefix": RUN})
        cloudformation = target.client("cloudformation", target.session("production"))
        names = [s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"]]
        assert f"{RUN}-priced" not in names


def test_the_run_bound_refuses_new_work(stand_in, profiles):
    with _target(stand_in, profiles, limits=CostLimits(max_run_seconds=3600)) as target:
        target._clock.deadline = 0  # type: ignore[union-attr]  # the bound is spent
        with pytest.raises(GuardRefused, match="run bound"):
            _deploy(target)


def test_teardown_empties_versioned_buckets_schedules_keys_and_leaves_nothing(stand_in, profiles):
    target = _target(stand_in, profiles)
    with target:
        outputs = _deploy(target)
        session = target.session("shared-services")
        s3 = target.client("s3", session)
        for body in (b"one", b"two"):
            s3.put_object(Bucket=outputs["Bucket"], Key="model.tar.gz", Body=body)
        s3.delete_object(Bucket=outputs["Bucket"], Key="model.tar.gz")  # a delete marker too
        tags = s3.get_bucket_tagging(Bucket=outputs["Bucket"])["TagSet"]
        assert {"Key": RUN_TAG, "Value": RUN} in tags
        left = target.leak_check()
        assert f"stack {RUN}-data in shared-services" in left
        assert f"role {RUN}-worker in shared-services" in left
    assert target.leaks == []
    kms = stand_in.client("kms", stand_in.session("shared-services"))
    assert kms.describe_key(KeyId=outputs["KeyArn"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    with pytest.raises(ClientError, match="404"):
        stand_in.client("s3", stand_in.session("shared-services")).head_bucket(
            Bucket=outputs["Bucket"]
        )


def test_teardown_finds_what_the_run_did_not_record(stand_in, profiles, monkeypatch):
    """A tagged bucket made outside any stack and a role named by the run (as after a crash).
    Each account's sweep lists the run's tagged resources once, for emptying buckets and for
    removing what it found; each leak check lists them again."""
    asked: list[str] = []
    listing = sweep.tagged_arns
    monkeypatch.setattr(
        sweep, "tagged_arns", lambda client, run_id: asked.append(run_id) or listing(client, run_id)
    )
    target = _target(stand_in, profiles)
    with target:
        session = target.session("training")
        s3 = target.client("s3", session)
        s3.create_bucket(Bucket=f"{RUN}-loose")
        s3.put_bucket_tagging(
            Bucket=f"{RUN}-loose", Tagging={"TagSet": [{"Key": RUN_TAG, "Value": RUN}]}
        )
        s3.put_object(Bucket=f"{RUN}-loose", Key="x", Body=b"x")
        kms = target.client("kms", session)
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=f"alias/{RUN}-other-key", TargetKeyId=key_id)
        target.client("iam", session).create_role(
            RoleName=f"{RUN}-canary", AssumeRolePolicyDocument=json.dumps({"Statement": []})
        )
        sagemaker = target.client("sagemaker", target.session("production"))
        sagemaker.create_model(
            ModelName=f"{RUN}-model",
            ExecutionRoleArn=f"arn:aws:iam::{stand_in.accounts['production']}:role/any",
            PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{RUN}-config",
            ProductionVariants=[
                {
                    "VariantName": "main",
                    "ModelName": f"{RUN}-model",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        assert {
            f"model {RUN}-model in production",
            f"endpoint config {RUN}-config in production",
            f"bucket {RUN}-loose in training",
            f"role {RUN}-canary in training",
            f"alias alias/{RUN}-other-key in training",
        } <= set(target.leak_check())
    assert target.leaks == []
    assert asked == [RUN] * 3 * len(stand_in.accounts)  # a check, the sweep, the final check
    kms = stand_in.client("kms", stand_in.session("training"))
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal handlers can only be installed from the main thread",
)
def test_an_interrupt_tears_the_run_down(stand_in, profiles):
    target = _target(stand_in, profiles)
    with pytest.raises(KeyboardInterrupt), target:
        _deploy(target, "production")
        os.kill(os.getpid(), signal.SIGTERM)
    assert target.leaks == []
    assert signal.getsignal(signal.SIGTERM) is not None
    cloudformation = stand_in.client("cloudformation", stand_in.session("production"))
    live = [
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ]
    assert f"{RUN}-data" not in live


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal handlers can only be installed from the main thread",
)
def test_the_run_bound_interrupts_a_run_that_overstays(stand_in, profiles):
    # The bound counts from the end of start; the body below takes ~0.3 s on a loaded box
    # before it sleeps, so the alarm lands in the sleep.
    target = _target(stand_in, profiles, limits=CostLimits(max_run_seconds=1.0))
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt), target:
        s3 = target.client("s3", target.session("training"))
        s3.create_bucket(Bucket=f"{RUN}-overstay")
        s3.put_bucket_tagging(
            Bucket=f"{RUN}-overstay", Tagging={"TagSet": [{"Key": RUN_TAG, "Value": RUN}]}
        )
        time.sleep(30)  # the alarm interrupts here
    assert time.monotonic() - began < 25
    assert target.leaks == []
