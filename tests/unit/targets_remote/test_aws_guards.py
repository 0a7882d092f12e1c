"""The aws target's settings and guards, offline (the stand-in tests run them end to end)."""

from __future__ import annotations

import pytest

from harness.targets.aws import AwsSettings, AwsTarget, CostLimits, GuardRefused, SettingsError
from harness.targets.aws.guards import RunClock, check_accounts, check_cost
from harness.targets.base import Capability
from harness.templates import ACCOUNT_TEMPLATES, load_template

ALLOWED = "shared-services=111111111111,training=222222222222,production=333333333333"


def test_settings_come_from_the_environment():
    settings = AwsSettings.from_environment(
        {
            "HARNESS_AWS_ACCOUNTS": ALLOWED,
            "HARNESS_AWS_PROFILE_TRAINING": "ml-training",
            "HARNESS_AWS_ROLE_ARN_PRODUCTION": "arn:aws:iam::333333333333:role/harness",
            "HARNESS_RUN_ID": "n12345",
            "HARNESS_AWS_INSTANCE_TYPES": "ml.m5.large",
            "AWS_REGION": "eu-west-1",
        }
    )
    assert settings.allowed_accounts["training"] == "222222222222"
    assert settings.access_of("training").profile == "ml-training"
    assert settings.access_of("production").role_arn == "arn:aws:iam::333333333333:role/harness"
    assert settings.access_of("shared-services").profile is None  # the default chain
    assert (settings.run_id, settings.region) == ("n12345", "eu-west-1")
    assert settings.limits.instance_types == {"ml.m5.large"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "HARNESS_AWS_ACCOUNTS is not set"),
        ({"HARNESS_AWS_ACCOUNTS": "shared-services=1,training=2"}, "exactly the accounts"),
        ({"HARNESS_AWS_ACCOUNTS": ALLOWED.replace("333333333333", "3333")}, "not 12 digits"),
        ({"HARNESS_AWS_ACCOUNTS": ALLOWED.replace("333", "222")}, "distinct"),
        ({"HARNESS_AWS_ACCOUNTS": ALLOWED, "HARNESS_RUN_ID": "Run_1"}, "run id"),
    ],
)
def test_a_run_without_a_proper_allow_list_does_not_start(environ, message):
    with pytest.raises(SettingsError, match=message):
        AwsSettings.from_environment(environ)


def test_account_mismatch_names_each_wrong_account():
    allowed = {"shared-services": "1" * 12, "training": "2" * 12, "production": "3" * 12}
    check_accounts(dict(allowed), allowed)
    with pytest.raises(GuardRefused, match=r"production: credentials are for 4{12}"):
        check_accounts(allowed | {"production": "4" * 12}, allowed)


def test_the_projects_templates_pass_the_default_cost_guard_and_fail_a_stricter_one():
    production = load_template(ACCOUNT_TEMPLATES["production"])
    training_stack = load_template(
        ACCOUNT_TEMPLATES["training"].parents[1] / "pipeline" / "training-stack.yaml"
    )
    check_cost(production, {}, CostLimits())
    check_cost(training_stack, {}, CostLimits())
    with pytest.raises(GuardRefused, match=r"EndpointInstanceType=ml\.m5\.xlarge"):
        check_cost(production, {"EndpointInstanceType": "ml.m5.xlarge"}, CostLimits())
    with pytest.raises(GuardRefused, match="MaxRuntimeInSeconds 3600 > 600"):
        check_cost(training_stack, {}, CostLimits(max_training_seconds=600))


def test_rendered_documents_with_literal_instance_types_are_checked():
    job = {"ResourceConfig": {"InstanceType": "ml.p3.16xlarge", "InstanceCount": 1}}
    with pytest.raises(GuardRefused, match=r"InstanceType ml\.p3\.16xlarge"):
        check_cost(job, {}, CostLimits())


def test_the_run_clock_refuses_once_spent():
    clock = RunClock(60)
    clock.check("a stack")
    clock.deadline -= 61
    with pytest.raises(GuardRefused, match="run bound of 60s spent; not starting a stack"):
        clock.check("a stack")


def test_an_unstarted_aws_target_declares_everything_without_reading_settings():
    target = AwsTarget(environ={})
    assert target.capabilities == frozenset(Capability)
    with pytest.raises(SettingsError):
        target.start()


def test_the_stack_the_pipeline_deploys_is_checked_against_the_cost_guard():
    from harness.render import PIPELINE_DIR, TRAINING_TEMPLATE

    accounts = dict(item.split("=") for item in ALLOWED.split(","))
    template = load_template(PIPELINE_DIR / TRAINING_TEMPLATE)
    AwsTarget(AwsSettings(accounts)).check_stack(template, {"TrainingInstanceType": "ml.m5.large"})
    strict = AwsTarget(
        AwsSettings(accounts, limits=CostLimits(instance_types=frozenset({"ml.t3.medium"})))
    )
    with pytest.raises(GuardRefused, match=r"TrainingInstanceType=ml\.m5\.large"):
        strict.check_stack(template, {"TrainingInstanceType": "ml.m5.large"})
