"""Putting a mutated policy in place on a started local target and restoring the original:
for each kind of policy, through the APIs, read back both times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.mutate.apply import Refused, RestoreFailed, mutated, read_policy
from harness.mutate.sites import Kind, Site
from harness.targets.local import LocalTarget

ACCOUNTS = {
    "shared-services": "411111111111",
    "training": "422222222222",
    "production": "433333333333",
    "outsider": "477777777777",
}
A, B = ACCOUNTS["shared-services"], ACCOUNTS["training"]


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ADMIN = {
    "Sid": "Admin",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
TRUST = _policy(
    {
        "Sid": "Jobs",
        "Effect": "Allow",
        "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
)
INLINE = _policy({"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})


def _bucket_policy(bucket: str, effect: str = "Deny") -> dict[str, Any]:
    return _policy(
        {
            "Sid": "NoPlainHttp",
            "Effect": effect,
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(ACCOUNTS, workdir=tmp_path_factory.mktemp("mutate-apply")) as started:
        yield started


def _bucket(target: LocalTarget, name: str) -> Site:
    s3 = target.client("s3", target.session("shared-services"))
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(_bucket_policy(name)))
    return Site(Kind.BUCKET, name, A, _bucket_policy(name))


@pytest.fixture(scope="module")
def sites(target: LocalTarget) -> dict[Kind, Site]:
    kms = target.client("kms", target.session("shared-services"))
    key = kms.create_key(Policy=json.dumps(_policy(ADMIN)))["KeyMetadata"]["Arn"]
    iam = target.client("iam", target.session("training"))
    role = iam.create_role(RoleName="job", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(RoleName="job", PolicyName="read", PolicyDocument=json.dumps(INLINE))
    return {
        Kind.KEY: Site(Kind.KEY, key, A, _policy(ADMIN)),
        Kind.BUCKET: _bucket(target, "mutate-apply"),
        Kind.TRUST: Site(Kind.TRUST, role["Arn"], B, TRUST),
        Kind.IDENTITY: Site(Kind.IDENTITY, role["Arn"], B, INLINE, "read"),
    }


def _flipped(document: dict[str, Any]) -> dict[str, Any]:
    statement = dict(document["Statement"][0])
    statement["Effect"] = "Deny" if statement["Effect"] == "Allow" else "Allow"
    return _policy(statement)


@pytest.mark.parametrize("kind", [Kind.KEY, Kind.BUCKET, Kind.TRUST, Kind.IDENTITY])
def test_round_trip(target: LocalTarget, sites: dict[Kind, Site], kind: Kind) -> None:
    site = sites[kind]
    # The key's mutant keeps its administrator (the restore needs it) and adds a use.
    changed = (
        _policy(ADMIN, {**ADMIN, "Sid": "Use", "Action": "kms:Decrypt"})
        if kind is Kind.KEY
        else _flipped(dict(site.document))
    )
    assert read_policy(target, site) == site.document
    with mutated(target, site, site.document, changed):
        assert read_policy(target, site) == changed
    assert read_policy(target, site) == site.document


def test_an_inline_policy_left_without_statements_is_deleted_then_put_back(
    target: LocalTarget, sites: dict[Kind, Site]
) -> None:
    site = sites[Kind.IDENTITY]
    with mutated(target, site, site.document, None):
        assert read_policy(target, site) is None
    assert read_policy(target, site) == site.document


def test_restored_also_when_the_block_fails(target: LocalTarget, sites: dict[Kind, Site]) -> None:
    site = sites[Kind.TRUST]
    with pytest.raises(KeyboardInterrupt), mutated(target, site, site.document, _flipped(TRUST)):
        raise KeyboardInterrupt
    assert read_policy(target, site) == site.document


def test_a_policy_the_target_refuses_changes_nothing(
    target: LocalTarget, sites: dict[Kind, Site]
) -> None:
    site = sites[Kind.TRUST]
    with pytest.raises(Refused), mutated(target, site, site.document, _policy()):
        pytest.fail("a trust policy without statements must be refused")
    assert read_policy(target, site) == site.document


def test_a_mutant_that_locks_out_its_restorer_is_reported(target: LocalTarget) -> None:
    site = _bucket(target, "mutate-lockout")
    everything = _policy(
        {
            "Sid": "DenyAll",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::mutate-lockout", "arn:aws:s3:::mutate-lockout/*"],
        }
    )
    with (
        pytest.raises(RestoreFailed, match="cannot be put back"),
        mutated(target, site, site.document, everything),
    ):
        pass
