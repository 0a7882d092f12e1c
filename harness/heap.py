"""Keep the cyclic garbage collector off what a run has already built.

A run's heap is mostly long-lived: imported modules, botocore's service models, moto's state,
the deployment. A full collection walks all of it, and the heap grows enough for one about
fifteen times a run (some 4 s of a local run's CPU, measured with ``gc.callbacks``). At each
phase boundary the run collects the young generations' garbage and freezes the rest, so later
collections walk only what was made since. Only the young generations: a full collection at
each boundary walked the whole phase's survivors again (0.5 s of CPU a run) to find almost
nothing (the frozen heap at the end differs by under 1%); cycles that reached the old
generation, or die after their phase, wait for the process's exit.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

FULL_COLLECTION_AFTER = 100
"""Collections of the middle generation before a full one (CPython's default is 10). What
phases leave unfrozen still grew enough for a full collection every few seconds, each walking
it all: ~0.45 s of a local run's 0.9 s of collector CPU. At 100 they are rare: the collector
took 0.47-0.48 s in two runs against 0.88-0.94 s, for 4-6 MiB more peak memory."""


def defer_full_collections() -> Callable[[], None]:
    """Make full collections rare for a run (the young generations keep their thresholds);
    returns what puts the previous thresholds back."""
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], FULL_COLLECTION_AFTER)
    return lambda: gc.set_threshold(*before)


def settle() -> None:
    """Collect the young generations' garbage, then keep what survives out of later
    collections."""
    gc.collect(1)
    gc.freeze()
