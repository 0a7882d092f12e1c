"""IAM's policy simulator on the local target: boto3 reads the answers AWS would give."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget

Doc = dict[str, Any]
TRUST_SAGEMAKER = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _policy(*statements: Doc) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(sid: str, action: str, resource: str = "*", **extra: Any) -> Doc:
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _iam(target: LocalTarget, account: str = "shared-services") -> BaseClient:
    return target.client("iam", target.session(account))


def _role(target: LocalTarget, account: str, name: str, *statements: Doc) -> str:
    iam = _iam(target, account)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_SAGEMAKER))
    for statement in statements:
        iam.put_role_policy(
            RoleName=name,
            PolicyName=f"{statement['Sid']}-policy",
            PolicyDocument=_policy(statement),
        )
    return str(arn["Role"]["Arn"])


def _only(response: dict[str, Any]) -> dict[str, Any]:
    (result,) = response["EvaluationResults"]
    return result


def _sources(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in result["MatchedStatements"]]


def test_allowed_by_identity_alone_cites_the_roles_own_statement(target):
    role = _role(target, "shared-services", "sim-reader", _allow("Read", "s3:GetObject"))
    response = _iam(target).simulate_principal_policy(
        PolicySourceArn=role,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::data/x"],
    )
    read, write = response["EvaluationResults"]
    assert (read["EvalDecision"], write["EvalDecision"]) == ("allowed", "implicitDeny")
    assert _sources(read) == [("Read-policy", "role")]
    assert read["MatchedStatements"][0]["StartPosition"] == {"Line": 1, "Column": 41}
    assert read["EvalDecisionDetails"] == {}  # one account, a resource named
    assert read["ResourceSpecificResults"][0]["EvalResourceDecision"] == "allowed"
    assert write["MatchedStatements"] == []
    assert response["ResponseMetadata"]["RequestId"]


def test_an_explicit_deny_in_the_resource_policy_wins_and_is_cited(target):
    role = _role(target, "shared-services", "sim-writer", _allow("Write", "s3:PutObject"))
    bucket_policy = _policy(
        {
            "Sid": "DenyWriter",
            "Effect": "Deny",
            "Principal": {"AWS": role},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::data/*",
        }
    )
    result = _only(
        _iam(target).simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=["s3:PutObject"],
            ResourceArns=["arn:aws:s3:::data/x"],
            ResourcePolicy=bucket_policy,
        )
    )
    assert result["EvalDecision"] == "explicitDeny"
    assert _sources(result) == [("ResourcePolicy", "Resource Policy"), ("Write-policy", "role")]


def test_cross_account_without_an_identity_allow_is_an_implicit_deny(target):
    a, b = target.accounts["shared-services"], target.accounts["training"]
    role = _role(target, "training", "sim-outsider")
    bucket_policy = _policy(
        {
            "Sid": "GrantOutsider",
            "Effect": "Allow",
            "Principal": {"AWS": role},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::data/*",
        }
    )
    result = _only(
        _iam(target, "training").simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::data/x"],
            ResourcePolicy=bucket_policy,
            ResourceOwner=f"arn:aws:iam::{a}:root",
        )
    )
    assert result["EvalDecision"] == "implicitDeny"
    assert result["EvalDecisionDetails"] == {
        "IAM Policy": "implicitDeny",
        "Resource Policy": "allowed",
    }
    assert _sources(result) == [("ResourcePolicy", "Resource Policy")]
    same_account = _only(
        _iam(target, "training").simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::data/x"],
            ResourcePolicy=bucket_policy,
            ResourceOwner=f"arn:aws:iam::{b}:root",
        )
    )
    assert same_account["EvalDecision"] == "allowed"  # the bucket policy alone suffices


def _key_policy(account: str, *statements: Doc) -> str:
    root = {
        "Sid": "EnableIamPolicies",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return _policy(root, *statements)


def test_a_key_policy_delegating_to_the_account_needs_the_identity_allow(target):
    a = target.accounts["shared-services"]
    key = f"arn:aws:kms:us-east-1:{a}:key/0f0f0f0f-0000-4000-8000-000000000001"
    user = _role(target, "shared-services", "sim-key-user", _allow("UseKey", "kms:Decrypt"))
    stranger = _role(target, "shared-services", "sim-key-stranger")
    results = {
        role: _only(
            _iam(target).simulate_principal_policy(
                PolicySourceArn=role,
                ActionNames=["kms:Decrypt"],
                ResourceArns=[key],
                ResourcePolicy=_key_policy(a),
            )
        )
        for role in (user, stranger)
    }
    assert results[user]["EvalDecision"] == "allowed"
    assert _sources(results[user]) == [
        ("ResourcePolicy", "Resource Policy"),
        ("UseKey-policy", "role"),
    ]
    assert results[stranger]["EvalDecision"] == "implicitDeny"


def test_a_key_policy_that_names_nobody_denies_even_an_identity_allow(target):
    a = target.accounts["shared-services"]
    key = f"arn:aws:kms:us-east-1:{a}:key/0f0f0f0f-0000-4000-8000-000000000002"
    role = _role(target, "shared-services", "sim-key-admin", _allow("AllKms", "kms:*"))
    other = {
        "Sid": "OtherRole",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{a}:role/someone-else"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    result = _only(
        _iam(target).simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=["kms:Decrypt"],
            ResourceArns=[key],
            ResourcePolicy=_policy(other),
        )
    )
    assert result["EvalDecision"] == "implicitDeny"
    assert _sources(result) == [("AllKms-policy", "role")]


def test_context_entries_decide_conditions_and_missing_keys_are_listed(target):
    a = target.accounts["shared-services"]
    key = f"arn:aws:kms:us-east-1:{a}:key/0f0f0f0f-0000-4000-8000-000000000003"
    role = _role(target, "training", "sim-via-s3", _allow("UseKey", "kms:Decrypt", key))
    via_s3 = {
        "Sid": "ViaS3",
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    }

    def decrypt(*entries: Doc) -> dict[str, Any]:
        return _only(
            _iam(target, "training").simulate_principal_policy(
                PolicySourceArn=role,
                ActionNames=["kms:Decrypt"],
                ResourceArns=[key],
                ResourcePolicy=_key_policy(a, via_s3),
                ContextEntries=list(entries),
            )
        )

    through_s3 = decrypt(
        {
            "ContextKeyName": "kms:ViaService",
            "ContextKeyValues": ["s3.us-east-1.amazonaws.com"],
            "ContextKeyType": "string",
        }
    )
    assert through_s3["EvalDecision"] == "allowed"
    assert through_s3["EvalDecisionDetails"] == {
        "IAM Policy": "allowed",
        "Resource Policy": "allowed",
    }
    direct = decrypt()
    assert direct["EvalDecision"] == "implicitDeny"
    assert direct["ResourceSpecificResults"][0]["MissingContextValues"] == ["kms:viaservice"]


def test_secure_transport_false_meets_a_bucket_deny(target):
    role = _role(target, "shared-services", "sim-tls", _allow("Read", "s3:GetObject"))
    deny_plain = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    decisions = [
        _only(
            _iam(target).simulate_principal_policy(
                PolicySourceArn=role,
                ActionNames=["s3:GetObject"],
                ResourceArns=["arn:aws:s3:::data/x"],
                ResourcePolicy=_policy(deny_plain),
                ContextEntries=[
                    {
                        "ContextKeyName": "aws:SecureTransport",
                        "ContextKeyValues": [value],
                        "ContextKeyType": "boolean",
                    }
                ],
            )
        )["EvalDecision"]
        for value in ("True", "false")
    ]
    assert decisions == ["allowed", "explicitDeny"]


def test_a_permissions_boundary_caps_the_identity_policy(target):
    iam = _iam(target)
    boundary = iam.create_policy(
        PolicyName="sim-boundary", PolicyDocument=_policy(_allow("OnlyS3", "s3:*"))
    )["Policy"]["Arn"]
    role = _role(target, "shared-services", "sim-bounded", _allow("AllKms", "kms:*"))
    iam.put_role_permissions_boundary(RoleName="sim-bounded", PermissionsBoundary=boundary)
    capped = _only(iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=["kms:Decrypt"]))
    assert capped["EvalDecision"] == "implicitDeny"
    assert capped["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert "EvalDecisionDetails" not in capped  # "*": no resource, no details
    replaced = _only(
        iam.simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=["kms:Decrypt"],
            PermissionsBoundaryPolicyInputList=[_policy(_allow("AnyKms", "kms:*"))],
        )
    )
    assert replaced["EvalDecision"] == "allowed"
    assert _sources(replaced) == [
        ("AllKms-policy", "role"),
        ("PermissionsBoundaryPolicyInputList.1", "IAM Policy"),
    ]


def test_results_page_with_max_items_and_marker(target):
    role = _role(target, "shared-services", "sim-paged", _allow("All", "s3:*"))
    iam = _iam(target)
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    first = iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=actions, MaxItems=2)
    assert [r["EvalActionName"] for r in first["EvaluationResults"]] == actions[:2]
    assert first["IsTruncated"] is True
    rest = iam.simulate_principal_policy(
        PolicySourceArn=role, ActionNames=actions, MaxItems=2, Marker=first["Marker"]
    )
    assert [r["EvalActionName"] for r in rest["EvaluationResults"]] == actions[2:]
    assert rest["IsTruncated"] is False
    assert "Marker" not in rest
    pages = iam.get_paginator("simulate_principal_policy").paginate(
        PolicySourceArn=role, ActionNames=actions, PaginationConfig={"PageSize": 1}
    )
    assert sum(len(p["EvaluationResults"]) for p in pages) == 3


def test_an_unknown_policy_source_is_no_such_entity(target):
    a = target.accounts["shared-services"]
    with pytest.raises(ClientError) as raised:
        _iam(target).simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{a}:role/never-made", ActionNames=["s3:GetObject"]
        )
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_caller_without_iam_simulate_principal_policy_is_refused(target):
    a = target.accounts["shared-services"]
    trust_account = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{a}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = _iam(target)
    iam.create_role(RoleName="sim-custom-only", AssumeRolePolicyDocument=json.dumps(trust_account))
    iam.put_role_policy(
        RoleName="sim-custom-only",
        PolicyName="custom",
        PolicyDocument=_policy(_allow("Custom", "iam:SimulateCustomPolicy")),
    )
    session = target.session("shared-services", f"arn:aws:iam::{a}:role/sim-custom-only")
    limited = target.client("iam", session)
    source = _role(target, "shared-services", "sim-watched", _allow("Read", "s3:GetObject"))
    with pytest.raises(ClientError) as raised:
        limited.simulate_principal_policy(PolicySourceArn=source, ActionNames=["s3:GetObject"])
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    refusal = target.decision_log.entries()[-1]
    assert (refusal["action"], refusal["resource"]) == ("iam:SimulatePrincipalPolicy", source)
    custom = limited.simulate_custom_policy(
        PolicyInputList=[_policy(_allow("Read", "s3:GetObject"))], ActionNames=["s3:GetObject"]
    )
    assert _only(custom)["EvalDecision"] == "allowed"


def test_custom_policies_with_a_resource_policy_need_a_caller(target):
    a = target.accounts["shared-services"]
    grant = _policy(
        {
            "Sid": "GrantUser",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{a}:user/alice"},
            "Action": "s3:GetObject",
            "Resource": "*",
        }
    )
    request = {
        "PolicyInputList": [_policy(_allow("Nothing", "sqs:SendMessage"))],
        "ActionNames": ["s3:GetObject"],
        "ResourceArns": ["arn:aws:s3:::data/x"],
        "ResourcePolicy": grant,
    }
    iam = _iam(target)
    with pytest.raises(ClientError, match="CallerArn"):
        iam.simulate_custom_policy(**request)
    as_alice = _only(
        iam.simulate_custom_policy(**request, CallerArn=f"arn:aws:iam::{a}:user/alice")
    )
    assert as_alice["EvalDecision"] == "allowed"
    assert _sources(as_alice) == [("ResourcePolicy", "Resource Policy")]
    with pytest.raises(ClientError, match="ResourceOwner"):
        iam.simulate_custom_policy(
            **request, CallerArn=f"arn:aws:iam::{a}:user/alice", ResourceOwner=a
        )


def test_a_roles_trust_policy_is_not_simulated(target):
    """AWS does not simulate resource-based policies of IAM roles: identity alone decides."""
    a = target.accounts["shared-services"]
    role = _role(target, "shared-services", "sim-assumer", _allow("Assume", "sts:AssumeRole"))
    deny_all = _policy(
        {"Sid": "Nobody", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}
    )
    result = _only(
        _iam(target).simulate_principal_policy(
            PolicySourceArn=role,
            ActionNames=["sts:AssumeRole"],
            ResourceArns=[f"arn:aws:iam::{a}:role/sim-reader"],
            ResourcePolicy=deny_all,
        )
    )
    assert result["EvalDecision"] == "allowed"
    assert _sources(result) == [("Assume-policy", "role")]


def test_a_users_group_and_managed_policies_are_its_own(target):
    iam = _iam(target)
    managed = iam.create_policy(
        PolicyName="sim-put", PolicyDocument=_policy(_allow("Put", "s3:PutObject"))
    )["Policy"]["Arn"]
    user = iam.create_user(UserName="sim-bob")["User"]["Arn"]
    iam.create_group(GroupName="sim-readers")
    iam.add_user_to_group(GroupName="sim-readers", UserName="sim-bob")
    iam.put_group_policy(
        GroupName="sim-readers",
        PolicyName="read",
        PolicyDocument=_policy(_allow("R", "s3:GetObject")),
    )
    iam.attach_user_policy(UserName="sim-bob", PolicyArn=managed)
    results = iam.simulate_principal_policy(
        PolicySourceArn=user, ActionNames=["s3:GetObject", "s3:PutObject"]
    )["EvaluationResults"]
    assert [_sources(r) for r in results] == [[("read", "group")], [("sim-put", "user-managed")]]
