"""What pipeline runs asked for, read from the target's decision log.

A mutant that only refuses more can matter to the pipeline only if its statement allowed
something the baseline run asked for; and a re-run under the mutant proves nothing about
requests it did not make again (the training stack, for one, is created by the first run
only). Both are read here from the log; a target without a decision log answers None, and
every narrowing mutant is then run through the pipeline.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from harness.evidence import StatementCited
from harness.evidence.computed import role_name
from harness.evidence.explain import HasDecisionLog
from harness.mutate.mutants import Mutant
from harness.mutate.sites import Kind, Site
from harness.targets import Target


@dataclass(frozen=True)
class Asked:
    """One decision of a run: who (the role, not the session) asked for what, allowed or
    not, and every statement that matched."""

    role: str
    action: str
    resource: str
    allowed: bool
    matched: tuple[StatementCited, ...]

    @property
    def request(self) -> tuple[str, str]:
        return self.role, self.action


def role_of(principal: str) -> str:
    """``arn:aws:sts::1:assumed-role/name/session (via s3...)`` -> the role's name."""
    arn = principal.split(" (via ", 1)[0]
    if ":assumed-role/" in arn:
        return arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
    return arn


def log_length(target: Target) -> int | None:
    """How many decisions the target has logged so far (None: it keeps no log)."""
    if not isinstance(target, HasDecisionLog):
        return None
    return len(target.decision_log.entries())


def asked(
    target: Target, since: datetime.datetime | None = None, after: int = 0
) -> list[Asked] | None:
    """The decisions logged from line ``after`` on, made at ``since`` or later (None: the
    target keeps no log)."""
    if not isinstance(target, HasDecisionLog):
        return None
    moment = since.astimezone(datetime.UTC) if since is not None else None
    return [
        Asked(
            role_of(entry["principal"]),
            entry["action"],
            entry["resource"],
            entry["decision"] == "allow",
            tuple(StatementCited.from_json(raw) for raw in entry.get("matched", [])),
        )
        for entry in target.decision_log.entries()[after:]
        if moment is None or datetime.datetime.fromisoformat(entry["time"]) >= moment
    ]


def allowed_by(decisions: Iterable[Asked], mutant: Mutant) -> list[Asked]:
    """The allowed decisions in which the mutant's statement (as it was) matched."""
    sid = mutant.before.get("Sid", mutant.index)
    return [d for d in decisions if d.allowed and any(mutant.site.cites(s, sid) for s in d.matched)]


def on_site(decisions: Iterable[Asked], site: Site) -> list[Asked]:
    """The decisions ``site``'s policy takes part in: by the role (identity), assuming it
    (trust), on the key or in the bucket."""
    if site.kind is Kind.IDENTITY:
        return [d for d in decisions if d.role == role_name(site.resource)]
    if site.kind is Kind.TRUST:
        return [
            d for d in decisions if d.action == "sts:AssumeRole" and d.resource == site.resource
        ]
    if site.kind is Kind.BUCKET:
        arn = f"arn:aws:s3:::{site.resource}"
        return [d for d in decisions if d.resource == arn or d.resource.startswith(f"{arn}/")]
    return [d for d in decisions if d.resource == site.resource]


def not_repeated(before: Iterable[Asked], again: Iterable[Asked]) -> list[str]:
    """The requests (role and action) of ``before`` that ``again`` did not make."""
    made = {d.request for d in again}
    return sorted({f"{d.action} by {d.role}" for d in before if d.request not in made})


@dataclass(frozen=True)
class Rerun:
    """What a pipeline run under a mutant shows about the requests the mutant could change:
    those it did not make again, and those refused now."""

    unrepeated: list[str]
    refused: list[str]

    @property
    def unchanged(self) -> bool:
        return not self.unrepeated and not self.refused


def rerun_shows(baseline: list[Asked], again: list[Asked], mutant: Mutant) -> Rerun:
    """For an allow removed or made a deny: the requests it allowed in the baseline run; for
    a deny that covers more: every request on its policy's resource."""
    sid = mutant.before.get("Sid", mutant.index)
    if mutant.before.get("Effect") == "Allow":
        before = allowed_by(baseline, mutant)
        wanted = {d.request for d in before}
        refused = [d for d in again if not d.allowed and d.request in wanted]
    else:
        before = on_site(baseline, mutant.site)
        refused = [
            d for d in again if not d.allowed and any(mutant.site.cites(s, sid) for s in d.matched)
        ]
    return Rerun(not_repeated(before, again), sorted({f"{d.action} by {d.role}" for d in refused}))
