"""Evidence from the policy simulator for roles only a service may assume, on the local
target and through the aws target standing on it as profiles (the path a real run takes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.deploy.principals import PrincipalSessions, Unavailable
from harness.evidence import Intent, PolicyKind, Source
from harness.evidence.simulated import SimulationInconclusive, _decision, simulate
from harness.probes.calls import Call
from harness.probes.prober import Prober
from harness.targets.aws import AwsSettings, AwsTarget
from harness.targets.base import Target
from harness.targets.local import LocalTarget
from tests.unit.targets_remote.conftest import profiles_of

BUCKET = "sim-evidence-data"
VIA_S3 = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, indent=2)


@pytest.fixture(scope="module")
def system(stand_in: LocalTarget) -> dict[str, str]:
    """In training, a SageMaker role the key and bucket grant and one they do not; in shared
    services, the key (its policy names the trainer) and the bucket (no unencrypted puts)."""
    a, b = stand_in.accounts["shared-services"], stand_in.accounts["training"]
    iam = stand_in.client("iam", stand_in.session("training"))
    trust = _policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    )
    for name in ("trainer", "bystander"):
        iam.create_role(RoleName=f"sim-{name}", AssumeRolePolicyDocument=trust)
        iam.put_role_policy(
            RoleName=f"sim-{name}",
            PolicyName="work",
            PolicyDocument=_policy(
                {"Sid": "UseKeys", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                {"Sid": "Data", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            ),
        )
    trainer = f"arn:aws:iam::{b}:role/sim-trainer"
    session = stand_in.session("shared-services")
    key_policy = _policy(
        {
            "Sid": "KeyAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{a}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "TrainerUsesKey",
            "Effect": "Allow",
            "Principal": {"AWS": trainer},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": VIA_S3},
        },
    )
    key = stand_in.client("kms", session).create_key(Policy=key_policy)["KeyMetadata"]["Arn"]
    s3 = stand_in.client("s3", session)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(
        Bucket=BUCKET,
        Policy=_policy(
            {
                "Sid": "TrainerReadsAndWrites",
                "Effect": "Allow",
                "Principal": {"AWS": trainer},
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
            },
            {
                "Sid": "DenyPutsWithoutTheKey",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            },
        ),
    )
    return {
        "owner": a,
        "trainer": trainer,
        "bystander": f"arn:aws:iam::{b}:role/sim-bystander",
        "key": key,
    }


@pytest.fixture(scope="module")
def aws(stand_in: LocalTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsTarget]:
    """The aws target on the stand-in's accounts, given to it as profiles."""
    with profiles_of(stand_in, tmp_path_factory.mktemp("profiles")) as access:
        settings = AwsSettings(
            allowed_accounts=dict(stand_in.accounts),
            access=access,
            run_id="hsimulate1",
            region=stand_in.region,
        )
        with AwsTarget(settings, say=lambda _line: None) as target:
            yield target


@pytest.fixture(params=["local", "aws"])
def target(request: pytest.FixtureRequest, stand_in: LocalTarget, system: dict[str, str]) -> Target:
    if request.param == "local":
        return stand_in
    aws_target: AwsTarget = request.getfixturevalue("aws")
    return aws_target


def _key_policy(target: Target, key: str) -> str:
    kms = target.client("kms", target.session("shared-services"))
    return str(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])


def _bucket_policy(target: Target) -> str:
    s3 = target.client("s3", target.session("shared-services"))
    return str(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])


def test_a_role_the_key_policy_names_may_use_the_key(target, system, stand_in):
    explanation = simulate(
        target,
        system["trainer"],
        "kms:Decrypt",
        system["key"],
        _key_policy(target, system["key"]),
        system["owner"],
        VIA_S3,
    )
    assert explanation.source is Source.SIMULATED
    logged = stand_in.decision_log.for_request(explanation.request_id)  # the simulate call's
    assert [(e["action"], e["resource"]) for e in logged] == [
        ("iam:SimulatePrincipalPolicy", system["trainer"])
    ]
    (decision,) = explanation.decisions
    assert decision.allowed
    assert [(s.kind, s.sid, s.effect) for s in decision.deciding] == [
        (PolicyKind.KEY, "TrainerUsesKey", "Allow"),
        (PolicyKind.IDENTITY, "UseKeys", "Allow"),
    ]
    assert decision.deciding[0].policy == f"key policy of {system['key']}"
    assert decision.deciding[1].policy == "policy 'work' of role sim-trainer"
    assert decision.principal == system["trainer"]


def test_a_role_the_key_policy_does_not_name_lacks_the_key_policy(target, system):
    explanation = simulate(
        target,
        system["bystander"],
        "kms:Decrypt",
        system["key"],
        _key_policy(target, system["key"]),
        system["owner"],
        VIA_S3,
    )
    decision = explanation.refusal
    assert decision is not None
    assert (decision.deciding, decision.lacking) == ((), (PolicyKind.KEY,))
    assert decision.decided_by == {PolicyKind.KEY}
    assert "implicit deny: no key policy allowed it" in explanation.describe()


def test_an_explicit_deny_in_the_bucket_policy_is_the_deciding_statement(target, system):
    explanation = simulate(
        target,
        system["trainer"],
        "s3:PutObject",
        f"arn:aws:s3:::{BUCKET}/model.tar.gz",
        _bucket_policy(target),
        system["owner"],
        {"s3:x-amz-server-side-encryption": "AES256"},
    )
    decision = explanation.refusal
    assert decision is not None
    assert [(s.kind, s.sid, s.effect) for s in decision.deciding] == [
        (PolicyKind.RESOURCE, "DenyPutsWithoutTheKey", "Deny")
    ]
    assert ("TrainerReadsAndWrites", "Allow") in {(s.sid, s.effect) for s in decision.matched}


def test_what_the_simulator_cannot_show_is_refused(target, system):
    with pytest.raises(SimulationInconclusive, match="trust policy"):
        simulate(
            target,
            system["trainer"],
            "sts:AssumeRole",
            system["bystander"],
            "{}",
            system["owner"],
        )
    # A key use allowed by the identity policy alone (AWS's answer when it does not apply
    # KMS's rule) is no evidence about the key policy.
    with pytest.raises(SimulationInconclusive, match="no key-policy statement"):
        simulate(target, system["bystander"], "kms:Decrypt", system["key"], None, system["owner"])


def test_an_answer_citing_nothing_still_names_the_side_that_did_not_allow():
    """AWS's reference says an implicit deny cites no statements; across accounts its
    EvalDecisionDetails still say which side allowed."""
    key = "arn:aws:kms:us-east-1:111111111111:key/k"
    details = {"IAM Policy": "allowed", "Resource Policy": "implicitDeny"}
    result = {
        "EvalActionName": "kms:Decrypt",
        "EvalResourceName": key,
        "EvalDecision": "implicitDeny",
        "ResourceSpecificResults": [
            {
                "EvalResourceName": key,
                "EvalResourceDecision": "implicitDeny",
                "MatchedStatements": [],
                "EvalDecisionDetails": details,
            }
        ],
    }
    role = "arn:aws:iam::222222222222:role/r"
    decision = _decision(result, role, True, texts=None)  # type: ignore[arg-type]
    assert (decision.allowed, decision.lacking) == (False, (PolicyKind.KEY,))


def _decrypt_call(principal: str, key: str) -> Call:
    return Call(
        f"kms:Decrypt on {key} via S3",
        principal,
        "kms",
        lambda kms: kms.decrypt(KeyId=key, CiphertextBlob=b"x"),
        Intent(principal, "kms:Decrypt", key, VIA_S3),
    )


def test_the_prober_asks_the_simulator_for_roles_only_a_service_may_assume(aws, system):
    """On aws the harness cannot become a SageMaker role: its cells are simulated by AWS and
    say so; a role's trust cell cannot be, and stays unavailable with the simulator's reason."""
    principals = PrincipalSessions(aws, {})
    prober = Prober(aws, principals, ())
    trainer = prober.observe(_decrypt_call(system["trainer"], system["key"]))
    assert trainer.allowed and trainer.explanation.source is Source.SIMULATED
    assert trainer.attempt.request_id == trainer.explanation.request_id
    bystander = prober.observe(_decrypt_call(system["bystander"], system["key"]))
    assert not bystander.allowed
    assert bystander.attempt.detail.startswith("simulated: ")
    assert bystander.explanation.refusal is not None
    assert bystander.explanation.refusal.lacking == (PolicyKind.KEY,)
    assume = Call(
        "sts:AssumeRole of the bystander",
        system["trainer"],
        "sts",
        lambda sts: sts.assume_role(RoleArn=system["bystander"], RoleSessionName="x"),
        Intent(system["trainer"], "sts:AssumeRole", system["bystander"]),
    )
    with pytest.raises(Unavailable, match="does not simulate a role's trust policy"):
        prober.observe(assume)
