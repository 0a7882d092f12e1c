"""``retag``, the one tag update every provider makes, on its own: the provider tests read the
result back through moto, which has no tag calls for CodeCommit, so the order and the skipped
calls are checked here."""

from __future__ import annotations

from typing import Any

import pytest

from harness.cloudformation.providers.base import Properties, retag


def _calls(old: Properties, new: Properties) -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = []
    retag(
        old,
        new,
        untag=lambda keys: calls.append(("untag", keys)),
        tag=lambda tags: calls.append(("tag", tags)),
    )
    return calls


def _tags(**pairs: str) -> dict[str, list[dict[str, str]]]:
    return {"Tags": [{"Key": k, "Value": v} for k, v in pairs.items()]}


def test_dropped_keys_are_untagged_before_the_new_tags_are_set() -> None:
    new = _tags(kept="2", added="x")
    assert _calls(_tags(z="1", kept="1", a="1"), new) == [
        ("untag", ["a", "z"]),
        ("tag", new["Tags"]),
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (_tags(a="1"), _tags(a="1"), []),
        ({}, {}, []),
        (_tags(a="1"), {}, [("untag", ["a"])]),
        (_tags(a="1"), {"Tags": []}, [("untag", ["a"])]),
        ({}, _tags(a="1"), [("tag", [{"Key": "a", "Value": "1"}])]),
        (_tags(a="1"), _tags(a="2"), [("tag", [{"Key": "a", "Value": "2"}])]),
    ],
    ids=["unchanged", "none", "all-dropped", "emptied", "first-tags", "value-changed"],
)
def test_only_the_calls_the_change_needs(
    old: Properties, new: Properties, expected: list[tuple[str, Any]]
) -> None:
    assert _calls(old, new) == expected
