"""One mutation run on one deployment: the baseline, then each mutant decided offline first
and, unless equivalent, applied live, judged by the checks that bear on it, and restored.

Live, a mutant's cells are judged with a fresh :class:`~harness.probes.prober.Prober`, the
cells whose sampled decisions the engine predicts to change first; the first cell whose
verdict is not PASSED kills it. A mutant that can only refuse more (an allow removed or made
a deny) and whose statement took part in the baseline pipeline run (the target's decision
log cites it in an allowed decision; every one where the target keeps no log) is also run
through the pipeline when the cells do not kill it: the pipeline, training and endpoint checks
then judge that run.
"""

from __future__ import annotations

import dataclasses
import datetime
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.access import deployment_allowlist
from harness.deploy import Deployment
from harness.deploy.principals import PrincipalSessions
from harness.evidence import Intent, StatementCited
from harness.evidence.computed import FetchedPolicies, decide
from harness.evidence.explain import HasDecisionLog
from harness.mutate.apply import Refused, RestoreFailed, mutated, read_policy
from harness.mutate.equivalence import (
    Change,
    Changed,
    Equivalence,
    Replaced,
    Snapshot,
    sampled,
)
from harness.mutate.mutants import Mutant, same_policy
from harness.mutate.report import EQUIVALENT_BY_ENGINE, Outcome, Result
from harness.mutate.rerun import follow, run_again, run_problem
from harness.mutate.sites import Kind, Site
from harness.mutate.training import mutated_source
from harness.probes.catalog import catalog
from harness.probes.cells import Cell
from harness.probes.judge import Status, Verdict, judge
from harness.probes.live import live_world, primed_prober
from harness.probes.prober import Prober
from harness.render import PIPELINE_DIR
from harness.targets import Capability, Target

Progress = Callable[[str], None]
# What restores a resource policy, and why a mutant that refuses it is not applied.
RESTORE_ACTION = {Kind.KEY: "kms:PutKeyPolicy", Kind.BUCKET: "s3:PutBucketPolicy"}
LOCKOUT = {
    Kind.KEY: "AWS would refuse it: PutKeyPolicy's lockout safety check requires the new "
    "key policy to let its caller ({who}) put the key policy again",
    Kind.BUCKET: "not applied: it would refuse {who} every later PutBucketPolicy, so it could "
    "not be undone (on AWS only the account's root user may then replace the policy; neither "
    "the local target nor the engine models that exemption)",
}


KILLING = frozenset({Status.FAILED, Status.INCONCLUSIVE})  # a check fails on such a verdict


class BaselineFailed(RuntimeError):
    """The suite does not pass on the unmutated deployment: mutants would prove nothing."""


@dataclass(frozen=True)
class Kill:
    check: str
    cell: str
    message: str
    statements: tuple[str, ...]


@dataclass
class Lab:
    """The deployment and what the baseline established about it."""

    target: Target
    deployment: Deployment
    principals: PrincipalSessions
    cells: dict[str, dict[str, Cell]]
    equivalence: Equivalence
    pipeline_cited: list[StatementCited] | None  # None: no decision log, assume all
    timeout_s: float
    progress: Progress

    @property
    def runs_pipeline(self) -> bool:
        return self.target.has(Capability.RUNS_PIPELINE)


def baseline(
    target: Target,
    deployment: Deployment,
    sites: list[Site],
    timeout_s: float,
    progress: Progress,
) -> Lab:
    """Follow the pipeline run the deployment started, judge every cell, check the live
    policies are ``infra/``'s, and decide every sampled request once; :class:`BaselineFailed`
    names whatever is not as it should be."""
    principals = PrincipalSessions(target, deployment.deployer_arns)
    started = None
    if target.has(Capability.RUNS_PIPELINE):
        run = follow(target, deployment, timeout_s, progress)
        if (problem := run_problem(target, deployment, principals, run)) is not None:
            raise BaselineFailed(f"the pipeline run fails its checks: {problem}")
        started = run.started
    settings = deployment.settings
    allowlist = deployment_allowlist(settings.accounts, deployment.deployer_arns, settings.prefix)
    world = live_world(target, deployment, allowlist, principals)
    cells = catalog(world)
    prober = primed_prober(target, principals, world, cells)
    progress(f"baseline: judging {sum(map(len, cells.values()))} cells")
    verdicts = {
        f"{check}/{cell.id}": judge(cell, prober)
        for check, group in cells.items()
        for cell in group.values()
    }
    failing = [
        f"{n}: {v.status.value}: {v.message}" for n, v in verdicts.items() if v.status in KILLING
    ]
    if failing:
        raise BaselineFailed(
            f"{len(failing)} cell(s) do not pass unmutated:\n" + "\n".join(failing)
        )
    unavailable = [name for name, v in verdicts.items() if v.status is Status.UNAVAILABLE]
    if unavailable:
        progress(
            f"baseline: {len(unavailable)} cell(s) the target cannot make (the suite skips them "
            "too); a mutant only they could tell apart survives here: " + ", ".join(unavailable)
        )
    drifted = [s.name for s in sites if not same_policy(read_policy(target, s), s.document)]
    if drifted:
        raise BaselineFailed(
            "the deployed policies are not infra/'s as rendered: " + ", ".join(drifted)
        )
    equivalence = Equivalence(sampled(cells), Snapshot(FetchedPolicies(target)))
    for index in range(len(equivalence.samples)):  # read every policy before any mutant
        equivalence.original(index)
    return Lab(
        target,
        deployment,
        principals,
        cells,
        equivalence,
        _pipeline_cited(target, started),
        timeout_s,
        progress,
    )


def _pipeline_cited(
    target: Target, started: datetime.datetime | None
) -> list[StatementCited] | None:
    """Every statement the decision log cites in an allowed decision since the pipeline run
    began (None: the target keeps no log)."""
    if not isinstance(target, HasDecisionLog):
        return None
    since = started.astimezone(datetime.UTC) if started is not None else None
    cited = []
    for entry in target.decision_log.entries():
        moment = datetime.datetime.fromisoformat(entry["time"])
        if entry["decision"] == "allow" and (since is None or moment >= since):
            cited += [StatementCited.from_json(raw) for raw in entry.get("matched", [])]
    return cited


def examine(lab: Lab, mutant: Mutant) -> Result:
    """The mutant's outcome (see the module docstring); the deployment is as before after."""
    began = time.monotonic()
    result = _training(lab, mutant) if mutant.site.kind is Kind.TRAINING else _policy(lab, mutant)
    return dataclasses.replace(result, seconds=time.monotonic() - began)


def _policy(lab: Lab, mutant: Mutant) -> Result:
    locked = _lockout(lab, mutant)
    if locked is not None:
        return Result(mutant, Outcome.SKIPPED, locked)
    changed = lab.equivalence.changed(mutant)
    pipeline = _pipeline_relevant(lab, mutant)
    if not changed and not pipeline:
        return Result(mutant, Outcome.EQUIVALENT, _equivalence_basis(lab, mutant))
    site = mutant.site
    try:
        with mutated(lab.target, site, site.document, mutant.document):
            kill = _judge_cells(lab, mutant, changed)
            problem = None
            if not isinstance(kill, Kill) and pipeline:
                run = run_again(lab.target, lab.deployment, lab.timeout_s, lab.progress)
                problem = run_problem(lab.target, lab.deployment, lab.principals, run)
    except Refused as refused:
        return Result(mutant, Outcome.SKIPPED, f"the target refused it: {refused}")
    if isinstance(kill, Kill):
        return Result(mutant, Outcome.KILLED, kill.message, kill.check, kill.cell, kill.statements)
    if problem is not None:
        _heal(lab)
        return Result(mutant, Outcome.KILLED, problem, "pipeline", "pipeline run")
    return Result(mutant, Outcome.SURVIVED, _survival(changed, kill, pipeline))


def _lockout(lab: Lab, mutant: Mutant) -> str | None:
    """Why the mutant must not be applied, if it would keep the harness from restoring it."""
    site = mutant.site
    action = RESTORE_ACTION.get(site.kind)
    if action is None:
        return None
    restorer = lab.deployment.deployer_arns["shared-services"]
    resource = site.resource if site.kind is Kind.KEY else f"arn:aws:s3:::{site.resource}"
    intent = Intent(restorer, action, resource, {"aws:SecureTransport": "true"}, site.account_id)
    mutated_policies = Replaced(lab.equivalence.snapshot, site, mutant.document)
    if decide(intent, mutated_policies).allowed:
        return None
    return LOCKOUT[site.kind].format(who=restorer)


def _pipeline_relevant(lab: Lab, mutant: Mutant) -> bool:
    """Whether the pipeline run could tell the mutant apart (see the module docstring)."""
    if not (lab.runs_pipeline and mutant.narrows):
        return False
    if lab.pipeline_cited is None or mutant.before.get("Effect") == "Deny":
        return True  # no log to tell, or a deny that now covers more than it did
    sid = mutant.before.get("Sid", mutant.index)
    return any(mutant.site.cites(statement, sid) for statement in lab.pipeline_cited)


def _equivalence_basis(lab: Lab, mutant: Mutant) -> str:
    count = len(lab.equivalence.bearing(mutant.site))
    basis = (
        f"{EQUIVALENT_BY_ENGINE}: none of the {count} sampled decisions it takes part in changes"
    )
    if lab.runs_pipeline and mutant.narrows:
        basis += "; the baseline pipeline run's allowed decisions cite no statement it narrows"
    return basis


def _judge_cells(lab: Lab, mutant: Mutant, changed: list[Changed]) -> Kill | set[str]:
    """The first cell bearing on the mutant's policy whose verdict is not PASSED, judged with
    a fresh prober, cells the engine predicts to change first; if none, the cells that could
    not be made (unavailable on the target)."""
    samples = lab.equivalence.samples
    bearing = [samples[i] for i in lab.equivalence.bearing(mutant.site)]
    ordered: dict[str, tuple[str, Cell]] = {}
    for sample in [*(c.sample for c in changed), *bearing]:
        ordered.setdefault(sample.cell_key, (sample.check, sample.cell))
    prober = Prober(lab.target, lab.principals, (cell for _, cell in ordered.values()))
    unavailable = set()
    for name, (check, cell) in ordered.items():
        verdict = judge(cell, prober)
        if verdict.status in KILLING:
            return Kill(check, cell.id, verdict.message, _named(verdict, prober))
        if verdict.status is Status.UNAVAILABLE:
            unavailable.add(name)
    return unavailable


def _survival(changed: list[Changed], unavailable: set[str], pipeline: bool) -> str:
    """Why a mutant may have survived, from what the engine predicted, then what was judged."""
    seen = [c for c in changed if c.sample.cell_key not in unavailable]
    kinds = Counter(c.change.value for c in seen)
    examples = ", ".join(c.sample.label for c in seen[:3]) + (" ..." * (len(seen) > 3))
    if changed and not seen:
        hidden = sorted({c.sample.cell_key for c in changed})
        why = f"only cells the target cannot make would tell it apart: {', '.join(hidden)}"
    elif seen and set(kinds) == {Change.ALLOW.value}:
        why = (
            "the engine cannot show it equivalent: it changes only which kinds of policy allow "
            f"{len(seen)} sampled request(s) that stay allowed ({examples})"
        )
    elif seen:
        counted = ", ".join(f"{n} in {kind}" for kind, n in kinds.items())
        why = f"the checks did not see the changes the engine predicts ({counted}: {examples})"
    else:
        why = "the engine predicts no sampled decision to change"
    judged = "every cell bearing on it passes" + (", and so does a pipeline run" * pipeline)
    return f"{why}; {judged}"


def _named(verdict: Verdict, prober: Prober) -> tuple[str, ...]:
    """What the evidence of the failing verdict names as deciding: its own request's when
    that came out other than expected, else the refused control's, else the resource-side
    probe's."""
    cell, seen = verdict.cell, verdict.observed
    if seen is None:
        return ()
    observation = seen
    if seen.allowed == cell.expected and not cell.expected:
        if cell.control is not None and not prober.observe(cell.control).allowed:
            observation = prober.observe(cell.control)
        elif cell.resource_side:
            observation = prober.resource_side(cell)
    explanation = observation.explanation
    refusal = explanation.refusal
    decisions = [refusal] if refusal is not None else list(explanation.decisions)
    named = [str(s) for d in decisions for s in d.deciding]
    if refusal is not None and not refusal.deciding:
        named += [f"no {kind.value} policy allowed {refusal.action}" for kind in refusal.lacking]
    return tuple(dict.fromkeys(named))


def _heal(lab: Lab) -> None:
    """After a mutant broke a pipeline run, run it again with the original in place: the
    deployment must be whole for the next mutant."""
    run = run_again(lab.target, lab.deployment, lab.timeout_s, lab.progress)
    problem = run_problem(lab.target, lab.deployment, lab.principals, run)
    if problem is not None:
        raise RestoreFailed(f"the pipeline does not pass again after restoring: {problem}")


def _training(lab: Lab, mutant: Mutant) -> Result:
    """Push the mutated training stack, run the pipeline; then the original, run it again."""
    if not lab.runs_pipeline:
        return Result(mutant, Outcome.SKIPPED, f"target {lab.target.name} runs no pipeline")
    with tempfile.TemporaryDirectory(prefix="mutant-source-") as folder:
        source = mutated_source(mutant, Path(folder))
        try:
            run = run_again(lab.target, lab.deployment, lab.timeout_s, lab.progress, source)
            problem = run_problem(lab.target, lab.deployment, lab.principals, run)
        finally:
            restored = run_again(
                lab.target, lab.deployment, lab.timeout_s, lab.progress, PIPELINE_DIR
            )
            if broken := run_problem(lab.target, lab.deployment, lab.principals, restored):
                raise RestoreFailed(f"the original training stack does not pass again: {broken}")
    if problem is not None:
        return Result(mutant, Outcome.KILLED, problem, "pipeline", "pipeline run")
    return Result(mutant, Outcome.SURVIVED, "the pipeline, training and endpoint checks pass")


def sites_of(sites: list[Site], only: Kind | None) -> list[Site]:
    return [s for s in sites if only is None or s.kind is only]
