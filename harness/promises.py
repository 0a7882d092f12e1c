"""The four promises a compliance run must prove (DESIGN.md section 1), the verdict on each
from the checks that ran, and the exit code that follows.

A green run is a claim that every promise was proven, so a promise whose checks were all
skipped (a target lacking a capability) or never ran is UNPROVEN, not passed: the run exits 3
unless ``--allow-unproven`` accepts that. Pure: no pytest, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol


@dataclass(frozen=True)
class Promise:
    number: int
    title: str
    statement: str


PROMISES = (
    Promise(
        1,
        "encryption",
        "every object written to the bucket is encrypted with this KMS key; unencrypted, "
        "AES256 and other-key puts and requests without TLS are denied",
    ),
    Promise(
        2,
        "key use",
        "only the allow-listed roles can use the key; any other principal is denied, even one "
        "whose own policy grants kms:*",
    ),
    Promise(
        3,
        "training",
        "training produces a model artifact that exists, is SSE-KMS with the key, and loads "
        "and predicts",
    ),
    Promise(
        4,
        "endpoint",
        "the pipeline deploys the production endpoint, which reaches InService and answers "
        "predictions",
    ),
)
NUMBERS = frozenset(p.number for p in PROMISES)


class Verdict(StrEnum):
    PROVEN = "PROVEN"  # at least one passing check, none failed or errored
    FAILED = "FAILED"  # a check failed or errored
    UNPROVEN = "UNPROVEN"  # no passing evidence: all skipped, or nothing ran


class Evidence(Protocol):
    """What a verdict needs of one recorded check (the report's ``CheckResult``)."""

    @property
    def promise(self) -> int | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def message(self) -> str: ...


@dataclass(frozen=True)
class PromiseVerdict:
    promise: Promise
    verdict: Verdict
    counts: dict[str, int]  # outcome -> number of checks of this promise
    why: tuple[str, ...] = ()  # for UNPROVEN: the distinct skip reasons, or that none ran


NONE_RAN = "no check of this promise ran"


def judge(checks: Iterable[Evidence]) -> list[PromiseVerdict]:
    """The verdict on every promise, in order, from the checks marked with it (split across
    xdist workers, every worker's: the controller judges once, ``harness.workers``)."""
    by_promise: dict[int, list[Evidence]] = {p.number: [] for p in PROMISES}
    for check in checks:
        if check.promise in by_promise:
            by_promise[check.promise].append(check)
    verdicts = []
    for promise in PROMISES:
        mine = by_promise[promise.number]
        counts = dict(Counter(check.outcome for check in mine))
        if counts.get("failed") or counts.get("error"):
            verdicts.append(PromiseVerdict(promise, Verdict.FAILED, counts))
        elif counts.get("passed"):
            verdicts.append(PromiseVerdict(promise, Verdict.PROVEN, counts))
        else:
            reasons = dict.fromkeys(c.message.splitlines()[0] for c in mine if c.message)
            why = tuple(reasons) or (NONE_RAN,)
            verdicts.append(PromiseVerdict(promise, Verdict.UNPROVEN, counts, why))
    return verdicts


class Exit(IntEnum):
    """The exit codes the verdicts decide; pytest's other statuses pass through."""

    PROVEN = 0
    FAILED = 1
    UNPROVEN = 3


# pytest's statuses that say how the session went, not what it proved; passed through.
PASSED_THROUGH = frozenset({2, 4, 5})  # interrupted, usage error, no tests collected

EXIT_CODES = (
    ("0", "every promise PROVEN and nothing failed (with `--allow-unproven`: nothing failed)"),
    (
        "1",
        "a failure: a check failed or errored, deployment or teardown failed or left "
        "resources behind, or pytest hit an internal error",
    ),
    (
        "3",
        "nothing failed, but a promise is UNPROVEN (its checks were skipped or none ran); "
        "`--allow-unproven` turns this into 0",
    ),
    (
        "2, 4",
        "the run was interrupted other than by a signal (2) or the command line is wrong "
        "(2 from `harness`, 4 from pytest)",
    ),
    (
        "130",
        "interrupted by SIGINT (Ctrl-C): teardown ran first (a signal during teardown does not "
        "stop it) and the summary says in which phase",
    ),
    ("143", "interrupted by SIGTERM, as 130"),
    ("5", "no check was collected (e.g. a `-k` that matches nothing): a failure to fix"),
)


ALLOW_UNPROVEN_HELP = (
    "exit 0 instead of 3 when nothing failed but a promise is UNPROVEN (its checks were "
    "skipped, e.g. the target lacks a capability); the summary lists those promises"
)


def exit_code(pytest_status: int, ok: bool, unproven: bool, allow_unproven: bool) -> int:
    """The run's exit code from pytest's status and what the run proved.

    ``ok`` is false when a check failed or deployment/teardown left a problem; pytest's
    internal error (its own 3) becomes 1 so that 3 means only "unproven".
    """
    if pytest_status in PASSED_THROUGH:
        return pytest_status
    if pytest_status != 0 or not ok:
        return Exit.FAILED
    if unproven and not allow_unproven:
        return Exit.UNPROVEN
    return Exit.PROVEN
