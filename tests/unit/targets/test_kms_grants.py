"""KMS grants and key states on the local target.

AWS KMS developer guide: grants https://docs.aws.amazon.com/kms/latest/developerguide/grants.html,
grant tokens .../using-grant-token.html, constraints
https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantConstraints.html, retiring and
revoking .../grant-delete.html, grant condition keys .../grant-authorization.html, key states
.../key-state.html. What the local target models, and what it takes as doubtful, is written down
in ``harness.policy.grants``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.targets.local import DEPLOYER_ROLE, LocalTarget

A = "shared-services"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(workdir=tmp_path_factory.mktemp("grants")) as started:
        yield started


def _deployer(target: LocalTarget, account: str = A) -> str:
    return f"arn:aws:iam::{target.account_id(account)}:role/{DEPLOYER_ROLE}"


def _role(target: LocalTarget, name: str, policy: dict[str, Any] | None = None) -> str:
    """A role in A that A's deployer may assume, with ``policy`` as its only permissions."""
    iam = target.client("iam", target.session(A))
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": _deployer(target)},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="own", PolicyDocument=json.dumps(policy))
    return arn


def _kms(target: LocalTarget, role_arn: str | None = None, account: str = A) -> Any:
    return target.client("kms", target.session(account, role_arn))


def _key(target: LocalTarget) -> str:
    """A key of A whose policy only delegates to A's IAM policies (the default key policy)."""
    root = f"arn:aws:iam::{target.account_id(A)}:root"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*", "Resource": "*"}
        ],
    }
    key: str = _kms(target).create_key(Policy=json.dumps(policy))["KeyMetadata"]["Arn"]
    return key


def _refused(call: Any, code: str = "AccessDeniedException") -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code
    return str(raised.value)


def _last(target: LocalTarget, action: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = target.decision_log.entries()
    return next(e for e in reversed(entries) if e["action"] == action)


def test_a_grant_lets_its_grantee_use_the_key_with_or_without_its_token(
    target: LocalTarget,
) -> None:
    key = _key(target)
    grantee = _kms(target, _role(target, "grantee-use"))
    _refused(lambda: grantee.encrypt(KeyId=key, Plaintext=b"x"))  # no policy allows it yet
    grant = _kms(target).create_grant(
        KeyId=key, GranteePrincipal=_role_arn(target, "grantee-use"), Operations=["Encrypt"]
    )
    grantee.encrypt(KeyId=key, Plaintext=b"x", GrantTokens=[grant["GrantToken"]])
    grantee.encrypt(KeyId=key, Plaintext=b"x")  # propagated: in force without its token
    logged = _last(target, "kms:Encrypt")
    assert logged["decision"] == "allow" and [c["kind"] for c in logged["deciding"]] == ["grant"]
    assert logged["reason"].endswith("[decided by: KMS grant]")
    assert grant["GrantId"] in logged["reason"]
    # an operation the grant does not list stays refused
    _refused(lambda: grantee.generate_data_key(KeyId=key, KeySpec="AES_256"))


def _role_arn(target: LocalTarget, name: str) -> str:
    return f"arn:aws:iam::{target.account_id(A)}:role/{name}"


def test_an_explicit_deny_beats_a_grant(target: LocalTarget) -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"}],
    }
    grantee = _kms(target, _role(target, "grantee-denied", deny))
    key = _key(target)
    _kms(target).create_grant(
        KeyId=key, GranteePrincipal=_role_arn(target, "grantee-denied"), Operations=["Encrypt"]
    )
    _refused(lambda: grantee.encrypt(KeyId=key, Plaintext=b"x"))


@pytest.mark.parametrize(
    ("constraint", "admitted", "refused"),
    [
        ("EncryptionContextEquals", {"Purpose": "train"}, {"purpose": "train", "more": "x"}),
        ("EncryptionContextSubset", {"purpose": "train", "more": "x"}, {"purpose": "Train"}),
    ],
)
def test_grant_constraints_hold_the_encryption_context(
    target: LocalTarget, constraint: str, admitted: dict[str, str], refused: dict[str, str]
) -> None:
    name = f"grantee-{constraint.lower()}"
    grantee = _kms(target, _role(target, name))
    key = _key(target)
    _kms(target).create_grant(
        KeyId=key,
        GranteePrincipal=_role_arn(target, name),
        Operations=["Encrypt", "DescribeKey"],
        Constraints={constraint: {"purpose": "train"}},
    )
    # keys match whatever their case, values exactly
    grantee.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=admitted)
    _refused(lambda: grantee.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext=refused))
    _refused(lambda: grantee.encrypt(KeyId=key, Plaintext=b"x"))
    grantee.describe_key(KeyId=key)  # constraints do not apply to DescribeKey


def test_who_may_retire_a_grant(target: LocalTarget) -> None:
    key = _key(target)
    grantee_arn, retiring_arn = _role(target, "grantee-retire"), _role(target, "retiring")
    grantee, retiring = _kms(target, grantee_arn), _kms(target, retiring_arn)
    owner = _kms(target)

    def grant(operations: list[str]) -> dict[str, str]:
        created: dict[str, str] = owner.create_grant(
            KeyId=key,
            GranteePrincipal=grantee_arn,
            RetiringPrincipal=retiring_arn,
            Operations=operations,
        )
        return created

    first = grant(["Decrypt"])
    # the grantee only when the grant lists RetireGrant; a principal of another account never
    _refused(lambda: grantee.retire_grant(KeyId=key, GrantId=first["GrantId"]))
    outsider = _kms(target, account="training")
    _refused(lambda: outsider.retire_grant(GrantToken=first["GrantToken"]))
    retiring.retire_grant(KeyId=key, GrantId=first["GrantId"])  # the retiring principal
    assert "grant" in [c["kind"] for c in _last(target, "kms:RetireGrant")["deciding"]]
    second = grant(["Decrypt", "RetireGrant"])
    grantee.retire_grant(GrantToken=second["GrantToken"])
    third = grant(["Decrypt"])
    owner.retire_grant(KeyId=key, GrantId=third["GrantId"])  # the key's account, by IAM
    assert owner.list_grants(KeyId=key)["Grants"] == []


def test_a_revoked_grant_allows_nothing_and_only_policies_allow_revoking(
    target: LocalTarget,
) -> None:
    key = _key(target)
    grantee_arn = _role(target, "grantee-revoke")
    grantee = _kms(target, grantee_arn)
    owner = _kms(target)
    grant = owner.create_grant(KeyId=key, GranteePrincipal=grantee_arn, Operations=["Encrypt"])
    grantee.encrypt(KeyId=key, Plaintext=b"x")
    listed = owner.list_grants(KeyId=key)["Grants"]
    assert [g["GrantId"] for g in listed] == [grant["GrantId"]]
    # ListGrants and RevokeGrant come from policies, never from a grant
    _refused(lambda: grantee.list_grants(KeyId=key))
    _refused(lambda: grantee.revoke_grant(KeyId=key, GrantId=grant["GrantId"]))
    owner.revoke_grant(KeyId=key, GrantId=grant["GrantId"])
    _refused(lambda: grantee.encrypt(KeyId=key, Plaintext=b"x"))


def test_a_grant_for_create_grant_allows_only_narrower_grants(target: LocalTarget) -> None:
    key = _key(target)
    grantee_arn = _role(target, "grantee-delegate")
    grantee = _kms(target, grantee_arn)
    _kms(target).create_grant(
        KeyId=key,
        GranteePrincipal=grantee_arn,
        Operations=["Decrypt", "CreateGrant"],
        Constraints={"EncryptionContextSubset": {"purpose": "train"}},
    )
    other = _role_arn(target, DEPLOYER_ROLE)
    narrower = {"EncryptionContextEquals": {"purpose": "train", "run": "1"}}
    grantee.create_grant(
        KeyId=key, GranteePrincipal=other, Operations=["Decrypt"], Constraints=narrower
    )
    wider = {"KeyId": key, "GranteePrincipal": other, "Constraints": narrower}
    _refused(lambda: grantee.create_grant(**wider, Operations=["Decrypt", "Encrypt"]))
    _refused(
        lambda: grantee.create_grant(KeyId=key, GranteePrincipal=other, Operations=["Decrypt"])
    )


def test_grant_condition_keys_limit_create_grant(target: LocalTarget) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:GrantConstraintType": "EncryptionContextEquals"},
                    "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt"]},
                },
            }
        ],
    }
    granter = _kms(target, _role(target, "granter", policy))
    key = _key(target)
    grant = {"KeyId": key, "GranteePrincipal": _role_arn(target, DEPLOYER_ROLE)}
    constrained = {"EncryptionContextEquals": {"purpose": "train"}}
    granter.create_grant(**grant, Operations=["Decrypt"], Constraints=constrained)
    _refused(lambda: granter.create_grant(**grant, Operations=["Decrypt"]))
    _refused(lambda: granter.create_grant(**grant, Operations=["Encrypt"], Constraints=constrained))


def test_a_key_not_enabled_refuses_cryptographic_calls_s3_makes_included(
    target: LocalTarget,
) -> None:
    owner = _kms(target)
    key = _key(target)
    s3 = target.client("s3", target.session(A))
    bucket = "key-states"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key,
                    }
                }
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="before", Body=b"x")
    key_id = key.rsplit("/", 1)[1]  # moto changes a key's state by id only
    owner.disable_key(KeyId=key_id)
    message = _refused(lambda: owner.encrypt(KeyId=key, Plaintext=b"x"), "DisabledException")
    assert f"{key} is disabled" in message
    _refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x"), "KMS.DisabledException")
    _refused(lambda: s3.get_object(Bucket=bucket, Key="before"), "KMS.DisabledException")
    owner.describe_key(KeyId=key)  # not cryptographic: still answered
    owner.enable_key(KeyId=key_id)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")  # the control: enabled again
    blob = owner.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    owner.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    pending = "KMSInvalidStateException"
    assert "pending deletion" in _refused(lambda: owner.decrypt(CiphertextBlob=blob), pending)
    _refused(lambda: s3.get_object(Bucket=bucket, Key="k"), "KMS." + pending)
