"""What the pipeline runs asked for, from the decision log: which narrowing mutants the
baseline run could notice, and which requests a re-run did not repeat."""

from __future__ import annotations

from harness.evidence import PolicyKind, StatementCited
from harness.mutate.mutants import generate
from harness.mutate.pipeline_log import (
    Asked,
    allowed_by,
    not_repeated,
    on_site,
    rerun_shows,
    role_of,
)
from harness.mutate.sites import Kind, Site

ROLE = "arn:aws:iam::222222222222:role/mlops-b-cloudformation"
SITE = Site(
    Kind.IDENTITY,
    ROLE,
    "222222222222",
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Manage", "Effect": "Allow", "Action": "states:*", "Resource": "*"},
            {"Sid": "Unused", "Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        ],
    },
    "training-stack",
)
CITED = StatementCited(SITE.name, PolicyKind.IDENTITY, "Manage", "Allow")


def _removal(sid: str):
    return next(
        m for m in generate([SITE]).mutants if m.sid == sid and m.operator == "remove the statement"
    )


def test_only_statements_that_allowed_a_request_matter_to_the_pipeline() -> None:
    run = [
        Asked("mlops-b-cloudformation", "states:CreateStateMachine", "arn:sm", True, (CITED,)),
        Asked("mlops-b-cloudformation", "states:TagResource", "arn:sm", False, (CITED,)),
    ]
    assert [d.action for d in allowed_by(run, _removal("Manage"))] == ["states:CreateStateMachine"]
    assert allowed_by(run, _removal("Unused")) == []


def test_a_rerun_that_does_not_repeat_a_request_is_named() -> None:
    baseline = [Asked("mlops-b-cloudformation", "states:CreateStateMachine", "arn:sm", True, ())]
    again = [Asked("mlops-b-cloudformation", "cloudformation:DescribeStacks", "arn:st", True, ())]
    assert not_repeated(baseline, again) == ["states:CreateStateMachine by mlops-b-cloudformation"]
    assert not_repeated(baseline, baseline) == []


def test_roles_of_sessions() -> None:
    session = "arn:aws:sts::222222222222:assumed-role/mlops-b-cloudformation/cfn"
    assert role_of(f"{session} (via s3.amazonaws.com)") == "mlops-b-cloudformation"
    assert role_of("sagemaker.amazonaws.com") == "sagemaker.amazonaws.com"


def test_a_rerun_shows_the_pipeline_unchanged_only_if_it_made_and_was_allowed_it_all() -> None:
    removal = _removal("Manage")
    create = Asked("mlops-b-cloudformation", "states:CreateStateMachine", "arn:sm", True, (CITED,))
    again_allowed = Asked("mlops-b-cloudformation", "states:CreateStateMachine", "arn:sm", True, ())
    again_refused = Asked(
        "mlops-b-cloudformation", "states:CreateStateMachine", "arn:sm", False, ()
    )
    assert rerun_shows([create], [again_allowed], removal).unchanged
    refused = rerun_shows([create], [again_refused], removal)
    assert refused.refused == ["states:CreateStateMachine by mlops-b-cloudformation"]
    assert rerun_shows([create], [], removal).unrepeated == [
        "states:CreateStateMachine by mlops-b-cloudformation"
    ]


def test_a_widened_deny_is_judged_on_every_request_on_its_resource() -> None:
    bucket = Site(
        Kind.BUCKET,
        "b",
        "111111111111",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "NoHttp",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::b/*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
    )
    widened = next(m for m in generate([bucket]).mutants if m.operator == "drop its Condition")
    put = Asked("mlops-pipeline", "s3:PutObject", "arn:aws:s3:::b/mlops/x", True, ())
    elsewhere = Asked("mlops-pipeline", "kms:Decrypt", "arn:aws:kms:k", True, ())
    assert on_site([put, elsewhere], bucket) == [put]
    denied = StatementCited(
        "resource policy of arn:aws:s3:::b/mlops/y", PolicyKind.RESOURCE, "NoHttp", "Deny"
    )
    refused = Asked("mlops-pipeline", "s3:PutObject", "arn:aws:s3:::b/mlops/y", False, (denied,))
    assert rerun_shows([put, elsewhere], [refused], widened).refused == [
        "s3:PutObject by mlops-pipeline"
    ]
    assert rerun_shows([put, elsewhere], [put], widened).unchanged
