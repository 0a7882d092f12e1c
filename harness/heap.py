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


def settle() -> None:
    """Collect the young generations' garbage, then keep what survives out of later
    collections."""
    gc.collect(1)
    gc.freeze()
