"""STS sessions on the local target: session and role tags, transitive tags, source identity,
the role's maximum session duration and session policies.

IAM user guide: session tags https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
(sts:TagSession in the trust policy, aws:PrincipalTag, role tags overridden by session tags,
transitive tags through role chaining); source identity
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html;
session policies https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session.
STS API Reference, AssumeRole (DurationSeconds above MaxSessionDuration is a ValidationError):
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.targets.local import DEPLOYER_ROLE, LocalTarget
from harness.targets.sessions import new_session, session_from

A = "shared-services"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(workdir=tmp_path_factory.mktemp("sessions")) as started:
        yield started


def _arn(target: LocalTarget, kind: str, name: str) -> str:
    return f"arn:aws:iam::{target.account_id(A)}:{kind}/{name}"


def _role(
    target: LocalTarget,
    name: str,
    actions: list[str],
    *,
    trusted: str | None = None,
    policy: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """A role of A that ``trusted`` (A's deployer) may assume with ``actions`` in its trust
    policy, allowed ``policy`` (default: everything)."""
    iam = target.client("iam", target.session(A))
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": trusted or _arn(target, "role", DEPLOYER_ROLE)},
                "Action": actions,
            }
        ],
    }
    own = policy or {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )
    iam.put_role_policy(RoleName=name, PolicyName="own", PolicyDocument=json.dumps(own))
    return _arn(target, "role", name)


def _team_only(team: str) -> dict[str, Any]:
    """Allows listing SageMaker models only to principals tagged ``team``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["sagemaker:ListModels", "sts:AssumeRole", "sts:TagSession"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": team}},
            }
        ],
    }


def _session(target: LocalTarget, caller: Any, role_arn: str, **extra: Any) -> boto3.Session:
    sts = target.client("sts", caller)
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName="session", **extra)
    return session_from(answer["Credentials"], target.region)


def _refused(call: Any, code: str = "AccessDenied") -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] in (code, code + "Exception")
    return str(raised.value)


def _lists_models(target: LocalTarget, session: boto3.Session) -> None:
    target.client("sagemaker", session).list_models()


def test_passing_session_tags_needs_tag_session_in_the_trust_policy(target: LocalTarget) -> None:
    plain = _role(target, "untaggable", ["sts:AssumeRole"], policy=_team_only("ml"))
    taggable = _role(
        target, "taggable", ["sts:AssumeRole", "sts:TagSession"], policy=_team_only("ml")
    )
    deployer = target.session(A)
    tags = [{"Key": "team", "Value": "ml"}]
    message = _refused(lambda: _session(target, deployer, plain, Tags=tags))
    assert "sts:TagSession" in message
    _lists_models(target, _session(target, deployer, taggable, Tags=tags))
    # aws:PrincipalTag holds the session's tags: another value is refused
    other = _session(target, deployer, taggable, Tags=[{"Key": "team", "Value": "web"}])
    _refused(lambda: _lists_models(target, other))


def test_role_tags_are_principal_tags_unless_a_session_tag_overrides(
    target: LocalTarget,
) -> None:
    role = _role(
        target,
        "tagged-role",
        ["sts:AssumeRole", "sts:TagSession"],
        policy=_team_only("ml"),
        tags={"team": "ml"},
    )
    deployer = target.session(A)
    _lists_models(target, _session(target, deployer, role))
    overridden = _session(target, deployer, role, Tags=[{"Key": "team", "Value": "web"}])
    _refused(lambda: _lists_models(target, overridden))


def test_transitive_tags_persist_through_role_chaining(target: LocalTarget) -> None:
    first = _role(
        target, "first-hop", ["sts:AssumeRole", "sts:TagSession"], policy=_team_only("ml")
    )
    second = _role(
        target,
        "second-hop",
        ["sts:AssumeRole", "sts:TagSession"],
        trusted=first,
        policy=_team_only("ml"),
    )
    deployer = target.session(A)
    tags = [{"Key": "team", "Value": "ml"}]
    transitive = _session(target, deployer, first, Tags=tags, TransitiveTagKeys=["team"])
    _lists_models(target, _session(target, transitive, second))
    # the control: the same chain, the tag not transitive, does not carry it
    plain = _session(target, deployer, first, Tags=tags)
    untagged = _session(target, plain, second)
    _refused(lambda: _lists_models(target, untagged))


def test_a_source_identity_needs_set_source_identity_and_is_a_condition_key(
    target: LocalTarget,
) -> None:
    by_identity = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sagemaker:ListModels",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}},
            }
        ],
    }
    plain = _role(target, "no-source-identity", ["sts:AssumeRole"], policy=by_identity)
    allowed = _role(
        target, "source-identity", ["sts:AssumeRole", "sts:SetSourceIdentity"], policy=by_identity
    )
    deployer = target.session(A)
    assert "sts:SetSourceIdentity" in _refused(
        lambda: _session(target, deployer, plain, SourceIdentity="alice")
    )
    _lists_models(target, _session(target, deployer, allowed, SourceIdentity="alice"))
    _refused(lambda: _lists_models(target, _session(target, deployer, allowed)))


def test_duration_above_the_role_maximum_is_refused(target: LocalTarget) -> None:
    role = _role(target, "short-sessions", ["sts:AssumeRole"])
    iam = target.client("iam", target.session(A))
    iam.create_user(UserName="operator")
    # A user, not a role session: role chaining's own one-hour limit does not apply.
    key = target.store.issue_long_term(_arn(target, "user", "operator"))
    allow_all = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="operator", PolicyName="all", PolicyDocument=json.dumps(allow_all))
    iam.update_assume_role_policy(
        RoleName="short-sessions",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": _arn(target, "user", "operator")},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    user = new_session(
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        region_name=target.region,
    )
    message = _refused(
        lambda: _session(target, user, role, DurationSeconds=7200), "ValidationError"
    )
    assert "MaxSessionDuration" in message
    _session(target, user, role, DurationSeconds=3600)  # the control: within the maximum


def test_session_policies_cap_the_session(target: LocalTarget) -> None:
    role = _role(target, "capped", ["sts:AssumeRole"])
    iam = target.client("iam", target.session(A))
    managed = iam.create_policy(
        PolicyName="list-buckets-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
                ],
            }
        ),
    )["Policy"]["Arn"]
    inline = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sagemaker:ListModels", "Resource": "*"}],
    }
    deployer = target.session(A)
    by_inline = _session(target, deployer, role, Policy=json.dumps(inline))
    _lists_models(target, by_inline)
    message = _refused(lambda: target.client("s3", by_inline).list_buckets())
    assert "session policy" in message
    by_arn = _session(target, deployer, role, PolicyArns=[{"arn": managed}])
    target.client("s3", by_arn).list_buckets()
    _refused(lambda: _lists_models(target, by_arn))
    _refused(
        lambda: _session(target, deployer, role, PolicyArns=[{"arn": managed + "-gone"}]),
        "ValidationError",
    )
