"""The enforcement probes against the local target, which enforces all they probe: each must
measure its capability as present (the LocalStack runs show the other direction)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from harness.targets.local import LocalTarget
from harness.targets.localstack import probes


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTarget]:
    with LocalTarget(workdir=tmp_path_factory.mktemp("probed")) as target:
        yield target


@pytest.fixture(scope="module")
def measured(local: LocalTarget) -> list[probes.ProbeResult]:
    """One measurement serves both tests: what it found and what it left."""
    return probes.measure(local)


def test_every_probe_measures_the_local_targets_enforcement(measured):
    assert {r.capability for r in measured} == set(probes.PROBES)
    assert [r for r in measured if not r.enforced] == []


def test_probes_leave_nothing_behind(local, measured):
    assert measured, "the probes ran"
    for account in local.accounts:
        session = local.root_session(account)
        roles = local.client("iam", session).list_roles()["Roles"]
        assert [r["RoleName"] for r in roles if r["RoleName"].startswith("harness-probe-")] == []
        buckets = local.client("s3", session).list_buckets()["Buckets"]
        assert [b["Name"] for b in buckets if b["Name"].startswith("harness-probe-")] == []


def test_denied_tells_refusals_from_other_errors():
    def refuse() -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")

    def break_() -> None:
        raise ClientError({"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "PutObject")

    assert probes.denied(refuse) is True
    assert probes.denied(lambda: None) is False
    with pytest.raises(ClientError, match="NoSuchBucket"):
        probes.denied(break_)
