"""Keep the cyclic garbage collector off what a run has already built.

A run's heap is mostly long-lived: imported modules, botocore's service models, moto's state,
the deployment. A full collection walks all of it, and the heap grows enough for one about
fifteen times a run (some 4 s of a local run's CPU, measured with ``gc.callbacks``). At each
phase boundary the run collects what has become garbage and freezes the rest, so later
collections walk only what was made since; nothing is lost but the cycles that die after
their phase, which wait for the process's exit.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect the garbage made so far, then keep what survives out of later collections."""
    gc.collect()
    gc.freeze()
