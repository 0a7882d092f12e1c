"""One mutant examined on the live deployment: decided offline first and, unless equivalent,
applied, judged by the checks that bear on it, and restored.

Live, a mutant's cells are judged with a fresh :class:`~harness.probes.prober.Prober`, the
cells whose sampled decisions the engine predicts to change first; the first cell whose
verdict is not PASSED kills it. A mutant that can only refuse more (an allow removed or made
a deny, or a deny that covers more) and whose statement took part in the baseline pipeline run
(the target's decision log cites it in an allowed decision; every one where the target keeps
no log) is also run through the pipeline when the cells do not kill it: the pipeline, training
and endpoint checks then judge that run, and its decision log shows whether it made again what
the mutant could change.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness.deploy.pipeline import PipelineTimeout
from harness.evidence import Intent
from harness.evidence.computed import decide
from harness.mutate.apply import Refused, RestoreFailed, mutated
from harness.mutate.baseline import KILLING, Lab
from harness.mutate.equivalence import (
    Change,
    Changed,
    Replaced,
)
from harness.mutate.mutants import Mutant
from harness.mutate.pipeline_log import Rerun, allowed_by, asked, log_length, rerun_shows
from harness.mutate.report import EQUIVALENT_BY_ENGINE, Outcome, Result
from harness.mutate.rerun import (
    remove_training_stack,
    run_again,
    run_problem,
    stop_running,
)
from harness.mutate.sites import Kind
from harness.mutate.training import mutated_source
from harness.probes.cells import Cell
from harness.probes.judge import Status, Verdict, judge
from harness.probes.prober import Prober
from harness.render import PIPELINE_DIR

# What restores a resource policy, and why a mutant that refuses it is not applied.
RESTORE_ACTION = {Kind.KEY: "kms:PutKeyPolicy", Kind.BUCKET: "s3:PutBucketPolicy"}
LOCKOUT = {
    Kind.KEY: "AWS would refuse it: PutKeyPolicy's lockout safety check requires the new "
    "key policy to let its caller ({who}) put the key policy again",
    Kind.BUCKET: "not applied: it would refuse {who} every later PutBucketPolicy, so it could "
    "not be undone (on AWS only the account's root user may then replace the policy; neither "
    "the local target nor the engine models that exemption)",
}


@dataclass(frozen=True)
class Kill:
    check: str
    cell: str
    message: str
    statements: tuple[str, ...]


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
    site, rerun = mutant.site, None
    try:
        with mutated(lab.target, site, site.document, mutant.document):
            kill = _judge_cells(lab, mutant, changed)
            if not isinstance(kill, Kill) and pipeline:
                rerun = _pipeline_under(lab, mutant)
        if isinstance(rerun, Rerun) and rerun.unrepeated:
            rerun = _pipeline_afresh(lab, mutant)
    except Refused as refused:
        return Result(mutant, Outcome.SKIPPED, f"the target refused it: {refused}")
    if isinstance(kill, Kill):
        return Result(mutant, Outcome.KILLED, kill.message, kill.check, kill.cell, kill.statements)
    if isinstance(rerun, str):
        _heal(lab)
        return Result(mutant, Outcome.KILLED, rerun, "pipeline", "pipeline run")
    if not changed and isinstance(rerun, Rerun) and rerun.unchanged:
        basis = _equivalence_basis(lab, mutant) + (
            "; and with it in place the pipeline made again every request it could change, "
            "refusing none (decision log)"
        )
        return Result(mutant, Outcome.EQUIVALENT, basis)
    return Result(mutant, Outcome.SURVIVED, _survival(changed, kill, pipeline, rerun))


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
    if lab.pipeline_asked is None or mutant.before.get("Effect") == "Deny":
        return True  # no log to tell, or a deny that now covers more than it did
    return bool(allowed_by(lab.pipeline_asked, mutant))


def _pipeline_under(lab: Lab, mutant: Mutant) -> str | Rerun | None:
    """Run the pipeline with the mutant in place: what its checks fail on, else what the
    run shows of the requests the mutant could change (None: the target keeps no log)."""
    began = log_length(lab.target)
    problem = _run(lab)
    if problem is not None:
        return problem
    again = asked(lab.target, after=began or 0)
    if again is None or lab.pipeline_asked is None:
        return None
    return rerun_shows(lab.pipeline_asked, again, mutant)


def _pipeline_afresh(lab: Lab, mutant: Mutant) -> str | Rerun | None:
    """:func:`_pipeline_under` once more, the training stack removed first (with the
    original policies) so that the run creates it: what only a first run asks for."""
    remove_training_stack(lab.target, lab.deployment)
    site = mutant.site
    with mutated(lab.target, site, site.document, mutant.document):
        return _pipeline_under(lab, mutant)


def _run(lab: Lab, source: Path | None = None) -> str | None:
    """Run the pipeline again (pushing ``source`` if given): what its checks fail on, a run
    that hangs stopped and counted as a failure (None: it passes)."""
    try:
        run = run_again(lab.target, lab.deployment, lab.timeout_s, lab.progress, source)
    except PipelineTimeout as timeout:
        stop_running(lab.target, lab.deployment, "harness mutate: the run under a mutant hung")
        return f"pipeline: {timeout}"
    return run_problem(lab.target, lab.deployment, lab.principals, run)


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


def _survival(
    changed: list[Changed], unavailable: set[str], pipeline: bool, rerun: Rerun | None
) -> str:
    """Why a mutant may have survived: what the engine predicted, then what was judged."""
    seen = [c for c in changed if c.sample.cell_key not in unavailable]
    kinds = Counter(c.change.value for c in seen)
    counted = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    examples = ", ".join(c.sample.label for c in seen[:3]) + (" ..." * (len(seen) > 3))
    if changed and not seen:
        hidden = sorted({c.sample.cell_key for c in changed})
        why = f"only cells the target cannot make would tell it apart: {', '.join(hidden)}"
    elif seen and Change.OUTCOME.value not in kinds:
        why = (
            "the engine cannot show it equivalent, but no sampled request changes between "
            f"allowed and refused: only the kinds of policy deciding do ({counted}: {examples})"
        )
    elif seen:
        why = f"the checks did not see the changes the engine predicts ({counted}: {examples})"
    else:
        why = "the engine predicts no sampled decision to change"
    judged = "every cell bearing on it passes" + (", and so does a pipeline run" * pipeline)
    if rerun is not None and rerun.unrepeated:
        judged += (
            "; but the run did not make again what the baseline run asked for here "
            f"({', '.join(rerun.unrepeated)}; e.g. only a first run creates a stack)"
        )
    if rerun is not None and rerun.refused:
        judged += f"; though it was refused {', '.join(rerun.refused)}"
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


def _heal(lab: Lab, source: Path | None = None) -> None:
    """After a mutant broke a pipeline run, run it again with the original in place (pushing
    ``source`` if given), the training stack created afresh if need be: the deployment must
    be whole for the next mutant."""
    problem = _run(lab, source)
    if problem is not None:  # a stack the mutant left failed: create it anew
        remove_training_stack(lab.target, lab.deployment)
        problem = _run(lab)  # the source, if any, is pushed already
    if problem is not None:
        raise RestoreFailed(f"the pipeline does not pass again after restoring: {problem}")


def _training(lab: Lab, mutant: Mutant) -> Result:
    """Push the mutated training stack, run the pipeline; then the original, run it again."""
    if not lab.runs_pipeline:
        return Result(mutant, Outcome.SKIPPED, f"target {lab.target.name} runs no pipeline")
    with tempfile.TemporaryDirectory(prefix="mutant-source-") as folder:
        try:
            problem = _run(lab, mutated_source(mutant, Path(folder)))
        finally:
            _heal(lab, PIPELINE_DIR)
    if problem is not None:
        return Result(mutant, Outcome.KILLED, problem, "pipeline", "pipeline run")
    return Result(mutant, Outcome.SURVIVED, "the pipeline, training and endpoint checks pass")
