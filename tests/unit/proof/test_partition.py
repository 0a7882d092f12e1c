"""Classes of resources and actions the patterns cannot tell apart: one member each."""

from __future__ import annotations

import pytest

from harness.policy.patterns import Pattern
from harness.proof import partition
from harness.proof.partition import representatives

BUCKET = "arn:aws:s3:::bucket"
OBJECTS = [Pattern(f"{BUCKET}/?*")]


def _classes(patterns: list[Pattern], members: list[str]) -> set[tuple[bool, ...]]:
    return {tuple(p.matches(m, lambda _k: None) for p in patterns) for m in members}


def test_every_class_has_one_representative() -> None:
    patterns = [Pattern(f"{BUCKET}/{p}", arn=True) for p in ("data/*", "models/*", "*")]
    found = representatives(OBJECTS, patterns)
    assert len(found) == len(_classes(patterns, found)) == 3  # data/, models/, the rest
    assert all(f.startswith(f"{BUCKET}/") for f in found)


def test_preferred_members_stand_for_their_class() -> None:
    patterns = [Pattern(f"{BUCKET}/data/*", arn=True)]
    found = representatives(OBJECTS, patterns, [f"{BUCKET}/data/train.csv", f"{BUCKET}/x"])
    assert sorted(found) == [f"{BUCKET}/data/train.csv", f"{BUCKET}/x"]


def test_actions_are_split_ignoring_case() -> None:
    patterns = [Pattern(p, ignore_case=True) for p in ("s3:get*", "S3:GetObject", "kms:*")]
    found = representatives([Pattern("s3:?*")], patterns, ["s3:GetObject", "s3:ListBucket"])
    assert set(found) >= {"s3:GetObject", "s3:ListBucket"}
    assert len(found) == 3  # GetObject, another Get*, anything else


def test_classes_outside_the_domain_are_left_out() -> None:
    found = representatives([Pattern(f"{BUCKET}/data/?*")], [Pattern("arn:aws:kms:*")])
    assert len(found) == 1 and found[0].startswith(f"{BUCKET}/data/")


def test_patterns_with_variables_are_not_partitioned() -> None:
    with pytest.raises(ValueError, match="policy variables"):
        representatives(OBJECTS, [Pattern(f"{BUCKET}/${{aws:username}}/*", variables=True)])


def test_equal_patterns_are_partitioned_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each proof builds its patterns anew: equal ones reuse the classes found, others
    (differing in case-sensitivity or in text) have their own."""
    monkeypatch.setattr(partition, "_FOUND", {})
    worked: list[object] = []
    work = partition._partition
    monkeypatch.setattr(partition, "_partition", lambda *a: worked.append(a) or work(*a))

    def data(text: str = f"{BUCKET}/data/*", **options: bool) -> list[Pattern]:
        return [Pattern(text, arn=True, **options)]

    first = representatives(OBJECTS, data())
    assert representatives(OBJECTS, data()) == first and len(worked) == 1
    representatives(OBJECTS, data(ignore_case=True))
    representatives(OBJECTS, data(f"{BUCKET}/data/?*"))
    assert len(worked) == 3
