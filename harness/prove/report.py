"""What a proof found, for people (the console) and for tools (JSON).

A counterexample reads: the principal, the request (action, resource, the context keys the
caller sets), whether it is allowed, and the statements that decided it, each with the file
and line it is written at where the proof read files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.policy import StatementRef
from harness.proof import Decided, Result, System, Verdict
from harness.prove.rendered import Location

Locate = Callable[[StatementRef], tuple[Path, int] | None]
_DERIVED = ("aws:principal", "aws:userid", "aws:username")


def locator(system: System, locations: Mapping[str, Location]) -> Locate:
    """Where a cited statement is written (None: not in a file, e.g. the worst-case
    identity policy, or a policy read from a deployment)."""
    documents = {d.name: d for d in system.documents()}

    def locate(ref: StatementRef) -> tuple[Path, int] | None:
        location = locations.get(ref.policy)
        document = documents.get(ref.policy)
        if location is None or document is None:
            return None
        index = ref.sid
        if isinstance(index, str):
            statements = document.policy.statements
            index = next((s.index for s in statements if s.sid == ref.sid), -1)
        return location.file, location.of(index) if index >= 0 else location.line

    return locate


def _cited(ref: StatementRef, locate: Locate) -> str:
    where = locate(ref)
    return f"{ref.label} ({where[0]}:{where[1]})" if where else ref.label


def caller_context(decided: Decided) -> dict[str, Any]:
    """The context keys of a request the caller (or the calling service) sets."""
    return {k: v for k, v in decided.request.context if not k.startswith(_DERIVED)}


def describe_request(decided: Decided, locate: Locate) -> list[str]:
    request, decision = decided.request, decided.decision
    context = ", ".join(f"{k}={v}" for k, v in caller_context(decided).items()) or "(none)"
    verdict = "ALLOWED" if decision.allowed else "DENIED"
    lines = [
        f"      {request.action} on {request.resource}",
        f"      context: {context}",
        f"      {verdict}: {decision.reason}",
    ]
    for ref in decision.statements:
        lines.append(
            f"        {'allowed' if ref.effect == 'Allow' else 'denied'} by {_cited(ref, locate)}"
        )
    return lines


def describe(result: Result, locate: Locate) -> list[str]:
    """A result as console lines (one for a proven property)."""
    head = f"{result.verdict.value:<7} {result.property.id} [{result.variant}]"
    if result.verdict is Verdict.PROVEN and not result.property.liveness:
        return [head]
    lines = [f"{head}: {result.property.claim}"]
    if result.reason:
        lines.append(f"    {result.reason}")
    for note in result.assumptions:
        lines.append(f"    assumed: {note}")
    if result.verdict is Verdict.PROVEN:
        return lines[:1]
    label = (
        "cannot be satisfied; the request it needs"
        if result.property.liveness
        else "counterexample"
    )
    for n, example in enumerate(result.examples, 1):
        lines.append(f"    {label} {n}: {example.principal.arn}")
        for decided in example.requests:
            lines += describe_request(decided, locate)
    return lines


def summary(results: Sequence[Result]) -> str:
    counts = Counter(r.verdict for r in results)
    properties = len({r.property.id for r in results})
    seconds = sum(r.seconds for r in results)
    parts = ", ".join(f"{counts[v]} {v.value.lower()}" for v in Verdict if counts[v])
    variants = len({r.variant for r in results})
    return f"{properties} properties x {variants} variants: {parts} ({seconds:.1f} s)"


def _request_json(decided: Decided, locate: Locate) -> dict[str, Any]:
    request, decision = decided.request, decided.decision
    statements = []
    for ref in decision.statements:
        where = locate(ref)
        statements.append(
            {
                "policy": ref.policy,
                "kind": ref.kind,
                "sid": ref.sid,
                "effect": ref.effect,
                **({"file": str(where[0]), "line": where[1]} if where else {}),
            }
        )
    return {
        "principal": request.principal.arn,
        "principal_kind": request.principal.kind.value,
        "action": request.action,
        "resource": request.resource,
        "context": caller_context(decided),
        "allowed": decision.allowed,
        "reason": decision.reason,
        "statements": statements,
    }


def as_json(results: Iterable[Result], locate: Locate) -> list[dict[str, Any]]:
    return [
        {
            "property": r.property.id,
            "group": r.property.group,
            "claim": r.property.claim,
            "variant": r.variant.value,
            "verdict": r.verdict.value,
            "seconds": round(r.seconds, 4),
            "reason": r.reason,
            "assumptions": list(r.assumptions),
            "examples": [[_request_json(d, locate) for d in e.requests] for e in r.examples],
        }
        for r in results
    ]
