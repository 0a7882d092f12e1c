"""The compliance suite split across pytest-xdist workers (``pytest -n 2``): who may split,
what each worker sends its controller, and how the controller merges it into one record.

Each worker deploys its own copy on its own target (on ``local`` its own ports and state)
under its own prefix, the user's with ``-<worker id>`` added, so two copies never share a name
on LocalStack or AWS either; it tears its copy down and runs its leak check. Each check
travels to the controller with pytest's own report of it (the :data:`CHECK` attribute, which
xdist carries), everything else a worker recorded (probes, the access matrix, phases,
leftovers, where it copied its evidence) in one part at its session's end (xdist's
``workeroutput``). The verdicts are judged once, on the controller, from every check of every
worker; no pairing crosses workers, as a cell judges its refusal beside its own control
(``harness.probes.judge``). A worker that sends no part (it crashed) fails the run: its
teardown and leak check are unknown.

Under xdist's default ``--dist load`` the checks are dealt in fixed shares instead (:func:`
share_scheduling`), so that a worker knows from its first check all those it will run and can
make their requests together up front, as one process does for the whole suite.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TypeVar

from harness.interrupts import Interruption
from harness.report import Probe, RunRecord, WorkerRun
from harness.validation import Inputs, Problem, problems

CHECK = "harness_check"
"""The attribute of a check's ``TestReport`` that carries its ``CheckResult`` as JSON."""
PART = "harness_part"
"""The key of a worker's part in xdist's ``workeroutput``."""
SHARES = "harness_shares"
"""The key in xdist's ``workerinput`` of how many shares the checks were dealt into."""
NO_PART = "ended without sending its part (it crashed?): its teardown and leak check are unknown"


def worker_id(config: Any) -> str | None:
    """The xdist worker this process is (``gw0``, ...), None in the controller or alone."""
    workerinput = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput["workerid"])


def planned_workers(option: Any) -> int:
    """How many workers this (controller) session starts: 0 without pytest-xdist's ``-n``
    (xdist has turned ``-n auto`` into a number and chosen a ``--dist`` mode by then)."""
    count = int(getattr(option, "numprocesses", None) or 0)
    return count if getattr(option, "dist", "no") != "no" and not option.collectonly else 0


def worker_prefix(prefix: str, worker: str) -> str:
    """The prefix of ``worker``'s copy: distinct per worker, still starting with the user's
    (the ``aws`` target requires names to start with its run id and ``-``)."""
    return f"{prefix}-{worker}"


def split_problems(
    prefix: str, workers: int, reuse: bool, environ: Mapping[str, str] | None, target: str
) -> list[Problem]:
    """Why the suite cannot be split across ``workers`` as given, before anything starts."""
    from harness.targets.local_environment import ENDPOINT_VARIABLE

    how = f"-n {workers} (pytest-xdist)"
    found = []
    if reuse:
        found.append(
            Problem(how, "each worker deploys its own copy; --reuse-deployment checks one")
        )
    if target == "local" and (environ or {}).get(ENDPOINT_VARIABLE):
        found.append(
            Problem(
                how,
                f"each worker starts its own local target; {ENDPOINT_VARIABLE} names one that "
                "harness serve shares: unset it",
            )
        )
    if target == "aws" and (environ or {}).get("HARNESS_RUN_ID"):
        found.append(
            Problem(
                how,
                "each worker's aws target removes everything of its run id at teardown; "
                "HARNESS_RUN_ID would give every worker the same: unset it (each worker draws one)",
            )
        )
    last = worker_prefix(prefix, f"gw{workers - 1}")
    found += [
        Problem(f"--prefix {prefix!r} with {how}", f"worker prefix {last!r}: {problem.rule}")
        for problem in problems(Inputs(prefix=last))
    ]
    return found


# which checks a worker runs --------------------------------------------------------------------
Item = TypeVar("Item")


def share_scheduling(config: Any, log: Any) -> Any:
    """xdist's scope scheduling with one scope per worker: the checks dealt round-robin in
    collection order (every worker collects the same, in the same order), so each worker gets
    one even share, whole, before it runs any (:func:`alongside`)."""
    from xdist.scheduler import LoadScopeScheduling

    class ShareScheduling(LoadScopeScheduling):  # type: ignore[misc]
        _shares: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._shares is None:  # the collection is known once scopes are asked for
                count = int(config.option.numprocesses)
                self._shares = {n: f"share {i % count}" for i, n in enumerate(self.collection)}
            return self._shares[nodeid]

    return ShareScheduling(config, log)


def alongside(items: Sequence[Item], running: Item, shares: int) -> list[Item]:
    """The items a process runs with ``running``: every one, or with the checks dealt into
    ``shares`` (:func:`share_scheduling`), ``running``'s share."""
    if not shares:
        return list(items)
    mine = items.index(running) % shares
    return [item for index, item in enumerate(items) if index % shares == mine]


# what a worker sends -------------------------------------------------------------------------
def part(record: RunRecord, run: WorkerRun) -> str:
    """A worker's record but its checks (they went with their reports), as JSON."""
    return json.dumps(
        {
            "run": run.as_json(),
            "probes": [asdict(probe) for probe in record.probes],
            "matrix_cells": record.matrix_cells,
            "matrix_table": record.matrix_table,
            "matrix_findings": record.matrix_findings,
            "pipeline_stages": record.pipeline_stages,
            "leftovers": record.leftovers,
            "teardown_errors": record.teardown_errors,
            "interruption": None if record.interruption is None else asdict(record.interruption),
        }
    )


# what the controller makes of them -----------------------------------------------------------
def merge(record: RunRecord, parts: Mapping[str, str | None]) -> None:
    """Add every worker's part (None: the worker sent none) to the controller's ``record``,
    which already holds every check: a worker's leftovers, teardown errors and a missing part
    name the worker, each phase took as long as the slowest worker's, and an interruption is
    the workers' (which know the phases they stopped in) before the controller's own."""
    interrupted: dict[str, Interruption] = {}
    for worker, text in sorted(parts.items()):
        if text is None:
            record.teardown_errors.append(f"worker {worker} {NO_PART}")
            continue
        raw = json.loads(text)
        run = WorkerRun.from_json(raw["run"])
        if "target start" in run.phases:  # not a replacement xdist started as the run ended
            record.workers.append(run)
        record.probes += [Probe(**probe) for probe in raw["probes"]]
        if raw["matrix_table"]:  # the one check that computes it ran on this worker
            record.matrix_cells = raw["matrix_cells"]
            record.matrix_table = raw["matrix_table"]
            record.matrix_findings = raw["matrix_findings"]
        record.leftovers += [f"{worker} ({run.prefix}): {left}" for left in raw["leftovers"]]
        record.teardown_errors += [f"{worker}: {error}" for error in raw["teardown_errors"]]
        if raw["interruption"] is not None:
            interrupted[worker] = Interruption(**raw["interruption"])
        _slowest(record.phases, {k: v for k, v in run.phases.items() if k != "checks"})
        _slowest(record.pipeline_stages, raw["pipeline_stages"])
    record.interruption = _one_interruption(interrupted) or record.interruption


def _one_interruption(by_worker: Mapping[str, Interruption]) -> Interruption | None:
    """The workers' interruptions as one: the signal passed on to them all, in the phase each
    was in, named per worker where they differ (one may still run its pipeline while another
    checks)."""
    if not by_worker:
        return None
    first = next(iter(by_worker.values()))
    phases = {stopped.phase for stopped in by_worker.values()}
    if len(phases) == 1:
        return first
    each = ", ".join(f"{stopped.phase} ({worker})" for worker, stopped in by_worker.items())
    return replace(first, phase=each)


def _slowest(into: dict[str, float], seconds: Mapping[str, float]) -> None:
    for name, value in seconds.items():
        into[name] = max(into.get(name, 0.0), value)


def evidence_folder(report: Path, worker: str) -> Path:
    """Where ``worker`` copies its decision log and target log: its own folder, so no file
    of the report is written by two processes."""
    return report / "workers" / worker
