"""Which SCPs and RCPs apply, and the organization's condition keys (policy.organization)."""

from __future__ import annotations

import pytest

from harness.policy import Policy, PolicyError, Principal, Request, evaluate
from harness.policy.organization import Organization

SCPS = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html"
RCPS = "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html"
KEYS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"

FULL = Policy.parse({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "Full")
RCP_FULL = Policy.parse(
    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]},
    "RCPFullAWSAccess",
)
DENY_PUT = Policy.parse(
    {"Statement": [{"Sid": "NoPut", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}]},
    "no-put",
)
ORG = Organization(
    id="o-abcd123456",
    root_id="r-ab12",
    management_account="111111111111",
    parents={"222222222222": ("ou-ab12-aaaaaaaa",), "333333333333": ()},
    scps={"r-ab12": (FULL,), "ou-ab12-aaaaaaaa": (FULL, DENY_PUT), "222222222222": (FULL,)},
    rcps={"r-ab12": (RCP_FULL,), "ou-ab12-aaaaaaaa": (RCP_FULL,), "222222222222": (RCP_FULL,)},
)
ADMIN = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


def _put(principal: str, bucket_account: str = "222222222222") -> bool:
    who = Principal.from_arn(principal)
    request = Request(who, "s3:PutObject", "arn:aws:s3:::b/k", ORG.principal_context(who))
    return evaluate(
        request, identity=ADMIN, resource_account=bucket_account, scps=ORG.scps_for(who)
    ).allowed


def test_scps_limit_member_accounts_root_user_included() -> None:  # SCPS
    assert not _put("arn:aws:sts::222222222222:assumed-role/admin/s")
    assert len(ORG.scps_for(Principal.from_arn("222222222222"))) == 3  # root, OU, account


def test_scps_do_not_affect_the_management_account() -> None:  # SCPS
    assert ORG.scps_for(Principal.from_arn("arn:aws:iam::111111111111:role/admin")) == []
    assert ORG.rcps_for("s3:PutObject", "111111111111") == []  # RCPS


def test_scps_do_not_affect_service_linked_roles_or_service_principals() -> None:  # SCPS
    linked = "arn:aws:iam::222222222222:role/aws-service-role/sagemaker.amazonaws.com/AWSRole"
    assert ORG.scps_for(Principal.from_arn(linked)) == []
    assert ORG.scps_for(Principal.service("sagemaker.amazonaws.com")) == []


def test_accounts_outside_the_organization_get_no_scps_and_no_org_keys() -> None:
    outsider = Principal.from_arn("arn:aws:iam::777788889999:role/r")
    assert ORG.scps_for(outsider) == []
    assert ORG.principal_context(outsider) == {}
    assert ORG.rcps_for("s3:GetObject", "777788889999") == []


def test_a_level_with_several_scps_allows_if_any_does_and_names_the_denying_one() -> None:
    who = Principal.from_arn("arn:aws:sts::222222222222:assumed-role/admin/s")
    decision = evaluate(
        Request(who, "s3:PutObject", "arn:aws:s3:::b/k"),
        identity=ADMIN,
        resource_account="222222222222",
        scps=ORG.scps_for(who),
    )
    assert not decision
    assert decision.statements[0].policy == "no-put"
    assert decision.reason.endswith("[decided by: SCP]")


def test_a_level_without_any_policy_is_an_error_not_an_allow() -> None:
    bare = Organization("o-x", "r-x", "111111111111", {"222222222222": ()}, scps={})
    with pytest.raises(PolicyError, match="no SCP is attached to r-x"):
        bare.scps_for(Principal.from_arn("222222222222"))


def test_rcps_cover_only_their_services_never_retire_grant_nor_aws_managed_keys() -> None:
    assert len(ORG.rcps_for("kms:Decrypt", "222222222222")) == 3  # RCPS: supported services
    assert ORG.rcps_for("sagemaker:CreateTrainingJob", "222222222222") == []
    # https://docs.aws.amazon.com/kms/latest/developerguide/resource-control-policies.html
    assert ORG.rcps_for("kms:RetireGrant", "222222222222") == []
    assert ORG.rcps_for("kms:Decrypt", "222222222222", aws_managed_key=True) == []


def test_principal_org_keys() -> None:  # KEYS: aws:PrincipalOrgID, aws:PrincipalOrgPaths
    member = Principal.from_arn("arn:aws:sts::222222222222:assumed-role/r/s")
    assert ORG.principal_context(member) == {
        "aws:PrincipalOrgID": "o-abcd123456",
        "aws:PrincipalOrgPaths": ["o-abcd123456/r-ab12/ou-ab12-aaaaaaaa/"],
    }
    management = Principal.from_arn("111111111111")
    assert ORG.principal_context(management)["aws:PrincipalOrgPaths"] == ["o-abcd123456/r-ab12/"]
    assert ORG.resource_context("333333333333")["aws:ResourceOrgID"] == "o-abcd123456"
    assert ORG.principal_context(Principal.service("s3.amazonaws.com")) == {}
