"""Single-edit mutants of each statement of a policy.

The operators (:data:`OPERATORS`): remove the statement; drop its Condition; widen Principal
to the account root of each principal's account, and to ``*`` (resource policies only); widen
Resource to ``*``; widen Action to ``<service>:*`` for each service of its actions; flip Effect.
An operator that does not apply to a statement (no Condition, no Resource in a trust policy)
makes no mutant; a mutant identical to the original policy is skipped and counted, and so is
one AWS rejects outright (:func:`rejection`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from harness.mutate.sites import RESOURCE_POLICIES, Kind, Site

Statement = dict[str, Any]
Edit = tuple[str, Statement | None]  # (what the operator did, the statement after; None: gone)
_SCALARS = frozenset({"Version", "Id", "Sid", "Effect"})


@dataclass(frozen=True)
class Mutant:
    """One edit of one statement (``index``) of ``site``'s policy, and the whole mutated
    policy (``document``; None: the inline policy is deleted, its only statement removed)."""

    site: Site
    index: int
    sid: str
    operator: str
    before: Any
    after: Any | None
    document: Mapping[str, Any] | None

    @property
    def id(self) -> str:
        return f"{self.site.short} #{self.index} {self.sid}: {self.operator}"

    @property
    def narrows(self) -> bool:
        """Whether the mutant can only refuse more (an allow removed or made a deny, or a deny
        that covers more), so only checks of allowed requests, like the pipeline, can kill it."""
        effect = self.before.get("Effect") if isinstance(self.before, dict) else None
        if effect == "Allow":
            return self.after is None or self.after.get("Effect") == "Deny"
        return effect == "Deny" and self.after is not None and self.after.get("Effect") == "Deny"


def _without(statement: Statement, *keys: str) -> Statement:
    return {k: v for k, v in statement.items() if k not in keys}


def _values(raw: Any) -> list[str]:
    return [raw] if isinstance(raw, str) else list(raw)


def _remove(statement: Statement, site: Site) -> Iterator[Edit]:
    yield "remove the statement", None


def _drop_condition(statement: Statement, site: Site) -> Iterator[Edit]:
    if "Condition" in statement:
        yield "drop its Condition", _without(statement, "Condition")


def account_roots(principal: Any, own_account: str) -> Any:
    """Each principal named replaced by its account's root; ``*`` stays everyone, and a
    service principal becomes the root of ``own_account`` (the resource's)."""
    if principal == "*":
        return "*"
    roots: list[str] = []
    for kind, names in principal.items():
        for name in _values(names):
            if name == "*":
                return "*"
            if kind == "AWS":
                account = name if name.isdigit() else name.split(":")[4]
            elif kind == "Service":
                account = own_account
            else:
                continue
            roots.append(f"arn:aws:iam::{account}:root")
    return {"AWS": sorted(set(roots))}


def _principal_root(statement: Statement, site: Site) -> Iterator[Edit]:
    if site.kind in RESOURCE_POLICIES and "Principal" in statement:
        widened = account_roots(statement["Principal"], site.account_id)
        yield "widen Principal to the account root", {**statement, "Principal": widened}


def _principal_anyone(statement: Statement, site: Site) -> Iterator[Edit]:
    if site.kind in RESOURCE_POLICIES and "Principal" in statement:
        yield "widen Principal to *", {**statement, "Principal": "*"}


def _resource_anything(statement: Statement, site: Site) -> Iterator[Edit]:
    if "Resource" in statement or "NotResource" in statement:
        yield "widen Resource to *", {**_without(statement, "NotResource"), "Resource": "*"}


def _action_service(statement: Statement, site: Site) -> Iterator[Edit]:
    key = "Action" if "Action" in statement else "NotAction"
    actions = _values(statement.get(key, []))
    services = dict.fromkeys(a.split(":", 1)[0] for a in actions if ":" in a)
    for service in services:
        kept = [a for a in actions if not a.startswith(f"{service}:")] if key == "Action" else []
        widened = [*kept, f"{service}:*"]
        yield (
            f"widen Action to {service}:*",
            {
                **_without(statement, "NotAction"),
                "Action": widened[0] if len(widened) == 1 else widened,
            },
        )


def _flip(statement: Statement, site: Site) -> Iterator[Edit]:
    effect = "Deny" if statement.get("Effect") == "Allow" else "Allow"
    yield f"flip Effect to {effect}", {**statement, "Effect": effect}


OPERATORS: tuple[Callable[[Statement, Site], Iterator[Edit]], ...] = (
    _remove,
    _drop_condition,
    _principal_root,
    _principal_anyone,
    _resource_anything,
    _action_service,
    _flip,
)


def canonical(node: Any, key: str = "") -> Any:
    """A policy in a form where equal meaning is equal value: a lone string and a list of
    it alike, list order ignored."""
    if isinstance(node, Mapping):
        return {k: canonical(v, k) for k, v in sorted(node.items())}
    if isinstance(node, list):
        return sorted({json.dumps(v if isinstance(v, str) else canonical(v)) for v in node})
    if isinstance(node, str) and key not in _SCALARS:
        return [json.dumps(node)]
    return node


def same_policy(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return canonical(a) == canonical(b) if a is not None and b is not None else a is b


def rejection(site: Site, document: Mapping[str, Any] | None) -> str | None:
    """Why AWS would refuse the mutated policy outright, if it would (the rules the operators
    can break; a key policy locking its administrator out is decided with the engine)."""
    if document is not None and not document.get("Statement") and site.kind is Kind.TRUST:
        return "IAM refuses a trust policy without a statement (MalformedPolicyDocument)"
    return None


@dataclass(frozen=True)
class Generated:
    """The mutants of a set of sites, and what was left out and why."""

    mutants: list[Mutant]
    identical: list[str]  # ids of edits that change nothing
    rejected: dict[str, str]  # id -> why AWS would refuse it


def generate(sites: list[Site]) -> Generated:
    """Every single-edit mutant of every statement of ``sites``."""
    mutants, identical, rejected = [], [], {}
    for site in sites:
        statements = site.statements
        for index, statement in enumerate(statements):
            sid = str(statement.get("Sid", f"#{index}"))
            for operator in OPERATORS:
                for label, after in operator(statement, site):
                    document = _replaced(site, statements, index, after)
                    mutant = Mutant(site, index, sid, label, statement, after, document)
                    if same_policy(document, site.document):
                        identical.append(mutant.id)
                    elif (why := rejection(site, document)) is not None:
                        rejected[mutant.id] = why
                    else:
                        mutants.append(mutant)
    return Generated(mutants, identical, rejected)


def _replaced(
    site: Site, statements: list[Statement], index: int, after: Statement | None
) -> dict[str, Any] | None:
    """The policy with statement ``index`` replaced (or removed); None for an inline policy
    left without statements (it is deleted, as DeleteRolePolicy does)."""
    changed = copy.deepcopy(statements)
    if after is None:
        del changed[index]
    else:
        changed[index] = after
    if not changed and site.kind is Kind.IDENTITY:
        return None
    return {**site.document, "Statement": changed}
