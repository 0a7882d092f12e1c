"""The baseline of a mutation run: the pipeline run the deployment started, followed to its
end, and every cell of the suite judged on the unmutated deployment. Mutation testing of a suite
that fails proves nothing, so anything that does not pass stops the run; what the target cannot
make is noted. Then every request the checks sample is decided once on the policies read back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harness.access import deployment_allowlist
from harness.deploy import Deployment
from harness.deploy.principals import PrincipalSessions
from harness.evidence.computed import FetchedPolicies
from harness.mutate.apply import read_policy
from harness.mutate.equivalence import Equivalence, Snapshot, sampled
from harness.mutate.mutants import same_policy
from harness.mutate.pipeline_log import Asked, asked
from harness.mutate.rerun import follow, run_problem
from harness.mutate.sites import Site
from harness.probes.catalog import catalog
from harness.probes.judge import Status, judge
from harness.probes.live import live_world, primed_prober
from harness.targets import Capability, Target

Progress = Callable[[str], None]
# A run under a mutant that takes this many times the baseline run (at least the floor) hangs.
RERUN_FACTOR, RERUN_FLOOR_S = 3.0, 60.0
KILLING = frozenset({Status.FAILED, Status.INCONCLUSIVE})  # a check fails on such a verdict


class BaselineFailed(RuntimeError):
    """The suite does not pass on the unmutated deployment: mutants would prove nothing."""


@dataclass
class Lab:
    """The deployment and what the baseline established about it."""

    target: Target
    deployment: Deployment
    principals: PrincipalSessions
    equivalence: Equivalence
    pipeline_asked: list[Asked] | None  # the baseline run's decisions; None: no log
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
    pipeline_asked = None
    if target.has(Capability.RUNS_PIPELINE):
        run = follow(target, deployment, timeout_s, progress)
        if (problem := run_problem(target, deployment, principals, run)) is not None:
            raise BaselineFailed(f"the pipeline run fails its checks: {problem}")
        pipeline_asked = asked(target, run.started) if run.started is not None else None
        timeout_s = min(timeout_s, max(RERUN_FLOOR_S, RERUN_FACTOR * run.seconds))
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
        equivalence,
        pipeline_asked,
        timeout_s,
        progress,
    )
