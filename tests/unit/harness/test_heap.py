"""Settling the heap collects its young garbage and keeps what survives out of later
collections."""

from __future__ import annotations

import gc
import weakref

from harness import heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_settle_collects_cycles_then_freezes_the_survivors() -> None:
    dead, alive = _Node(), _Node()
    dead_ref = weakref.ref(dead)
    del dead
    try:
        heap.settle()
        assert dead_ref() is None
        assert gc.get_freeze_count() > 0
        assert not any(obj is alive for obj in gc.get_objects())  # frozen: no longer tracked
    finally:
        gc.unfreeze()
    assert any(obj is alive for obj in gc.get_objects())


def test_full_collections_are_deferred_until_put_back() -> None:
    before = gc.get_threshold()
    put_back = heap.defer_full_collections()
    try:
        assert gc.get_threshold() == (*before[:2], heap.FULL_COLLECTION_AFTER)
    finally:
        put_back()
    assert gc.get_threshold() == before
