"""The local target's organization: SCPs and RCPs attached through the Organizations API are
enforced, the management account is exempt, and aws:PrincipalOrgID is set.

Organizations user guide: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
(SCPs, management account exempt), .../orgs_manage_policies_rcps.html (RCPs); condition keys:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(workdir=tmp_path_factory.mktemp("org"), organization=True) as started:
        yield started


def _organizations(target: LocalTarget) -> Any:
    return target.client("organizations", target.session("shared-services"))


def _attach(target: LocalTarget, kind: str, name: str, statements: list[dict], account: str) -> str:
    organizations = _organizations(target)
    policy_id: str = organizations.create_policy(
        Name=name,
        Description=name,
        Type=kind,
        Content=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )["Policy"]["PolicySummary"]["Id"]
    organizations.attach_policy(PolicyId=policy_id, TargetId=target.account_id(account))
    return policy_id


def _denied(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")
    return str(raised.value)


def test_members_see_the_organization_of_the_management_account(target: LocalTarget) -> None:
    member = target.client("organizations", target.session("training"))
    organization = member.describe_organization()["Organization"]
    assert organization["MasterAccountId"] == target.account_id("shared-services")


def test_an_attached_scp_denies_in_members_but_not_in_the_management_account(
    target: LocalTarget,
) -> None:
    deny = [
        {"Sid": "NoListing", "Effect": "Deny", "Action": "sagemaker:ListModels", "Resource": "*"}
    ]
    for account in ("training", "shared-services"):
        _attach(target, "SERVICE_CONTROL_POLICY", f"no-listing-{account}", deny, account)
    message = _denied(target.client("sagemaker", target.session("training")).list_models)
    assert "statement 'NoListing' of SCP 'no-listing-training'" in message
    assert message.endswith("[decided by: SCP]")
    # the control: the same call in the management account, the same SCP attached to it
    target.client("sagemaker", target.session("shared-services")).list_models()
    target.client("sagemaker", target.session("production")).list_models()


def test_principal_org_id_is_set_for_members(target: LocalTarget) -> None:
    org_id = _organizations(target).describe_organization()["Organization"]["Id"]
    owner = target.session("production")
    s3 = target.client("s3", owner)
    for bucket, wanted in (("org-only", org_id), ("other-org-only", "o-0000000000")):
        s3.create_bucket(Bucket=bucket)
        statement = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": wanted}},
        }
        s3.put_bucket_policy(
            Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        )
    member = target.client("s3", target.session("training"))
    member.list_objects_v2(Bucket="org-only")
    _denied(lambda: member.list_objects_v2(Bucket="other-org-only"))


def test_an_rcp_guards_a_members_resources_from_every_caller(target: LocalTarget) -> None:
    owner = target.client("s3", target.session("training"))
    owner.create_bucket(Bucket="guarded")
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": target.account_id("production")},
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::guarded",
    }
    owner.put_bucket_policy(
        Bucket="guarded", Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    caller = target.client("s3", target.session("production"))
    caller.list_objects_v2(Bucket="guarded")  # the control, before the RCP
    deny = {
        "Sid": "NoProductionReads",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:ListBucket",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalAccount": target.account_id("production")}},
    }
    _attach(target, "RESOURCE_CONTROL_POLICY", "no-production-reads", [deny], "training")
    message = _denied(lambda: caller.list_objects_v2(Bucket="guarded"))
    assert "statement 'NoProductionReads' of RCP 'no-production-reads'" in message
    assert "[decided by: RCP]" in message


def test_an_organizations_call_on_an_unknown_entity_is_refused_not_allowed_on_star(
    target: LocalTarget,
) -> None:
    message = _denied(lambda: _organizations(target).describe_policy(PolicyId="p-00000000"))
    assert "not mapped" in message
