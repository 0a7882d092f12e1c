"""Role chaining: a role session may assume a role for one hour at most.

STS API Reference, AssumeRole, DurationSeconds:
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from harness.targets.local import DEPLOYER_ROLE, LocalTarget


def test_a_chained_session_longer_than_an_hour_is_refused(target: LocalTarget) -> None:
    account = target.account_id("training")
    role_arn = f"arn:aws:iam::{account}:role/{DEPLOYER_ROLE}"
    sts = target.client("sts", target.session("training"))  # a role session: chaining
    with pytest.raises(ClientError) as raised:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="long", DurationSeconds=3601)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "1 hour session limit" in raised.value.response["Error"]["Message"]
    # the control: the same chain for an hour
    sts.assume_role(RoleArn=role_arn, RoleSessionName="hour", DurationSeconds=3600)
