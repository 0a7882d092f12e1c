"""The suite's conftest freezes a module's fixtures before its first test runs, so that
automatic collections during the module's tests do not scan them (tests/unit/conftest.py)."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(scope="module")
def held() -> list[object]:
    return [object()]  # a list: tracked by the collector until frozen


def test_a_module_fixture_is_frozen_when_the_first_test_runs(held: list[object]) -> None:
    assert gc.get_freeze_count() > 0
    assert not any(obj is held for obj in gc.get_objects())
