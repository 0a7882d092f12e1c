"""Write a proof's counterexamples as pytest cases that replay them live.

Each request becomes a :class:`harness.prove.replay.Case`, its names turned into the
placeholders a replay binds to the deployment it runs against; policies proven from files
that differ from the deployment (a fragment put into the infra) go along as the fault to put
in place. Run with ``pytest -p harness.pytest_plugin <file> --target local``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pprint import pformat
from typing import Any

from harness.proof import ALLOW_ALL, Result, Variant, Verdict
from harness.prove.replay import EXTRA_ACCOUNTS, Case, Fault

_ACCOUNT = re.compile(r"arn:aws:(?:iam|sts)::\d{12}:")

_MODULE = '''"""Counterexamples of `harness prove` on {source}, replayed live.

Each case makes a request the proof decided, as its principal, on a deployed target: it
fails when the target decides as the proof found (the counterexample is confirmed) and
passes when the target decides as the property claims. Run:

    {command} [--reuse-deployment]
"""

import pytest

from harness.prove.replay import Case, Fault, replay

FAULT = {fault}

CASES = {cases}


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.id, marks=pytest.mark.promise(c.promise)) for c in CASES]
)
def test_counterexample(case, deployment, harness_target, principals):
    replay(case, FAULT, deployment, harness_target, principals)
'''


class Placeholders:
    """Rendered names to the placeholders a replay binds (``${A}``, ``${KeyArn}``...)."""

    def __init__(self, values: Mapping[str, str], prefix: str) -> None:
        self.values = dict(sorted(values.items(), key=lambda kv: -len(kv[0])))
        self.prefix = re.compile(rf"(?<![A-Za-z0-9]){re.escape(prefix)}(?![A-Za-z0-9])")

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            for text, placeholder in self.values.items():
                value = value.replace(text, placeholder)
            return self.prefix.sub("${Prefix}", value)
        if isinstance(value, Mapping):
            return {self(k): self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self(v) for v in value)
        return value


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def cases(results: Sequence[Result], names: Placeholders) -> list[Case]:
    """A case per request of each counterexample (for a liveness cell, its S3 or KMS or STS
    request, which the live call makes with the rest)."""
    found = []
    for result in results:
        if result.verdict is not Verdict.FAILED:
            continue
        liveness = result.property.liveness
        variant = "resource-side" if result.variant is Variant.RESOURCE_SIDE else "deployed"
        for n, example in enumerate(result.examples, 1):
            decided = example.requests[0]
            request = decided.request
            identity = decided.query.identity.of(request.principal)
            context = {k: v for k, v in request.context if not k.startswith("aws:principal")}
            context.pop("aws:userid", None)
            context.pop("aws:username", None)
            found.append(
                Case(
                    id=_slug(f"{result.property.id}-{variant}-{n}"),
                    property=f"{result.property.id} ({result.variant})",
                    promise=result.property.promise,
                    expect="allowed" if liveness else "denied",
                    principal=names(request.principal.arn),
                    action=request.action,
                    resource=names(request.resource),
                    context=names(context),
                    admin_like=identity.policies == (ALLOW_ALL,),
                    decided_by=tuple(names(ref.label) for ref in decided.decision.statements),
                )
            )
    return found


def command(found: Sequence[Case], path: str) -> str:
    """How to replay ``found`` on the local target: with the accounts of principals outside
    the deployment's (their ids are not placeholders) added to it."""
    accounts = sorted({c.principal.split(":")[4] for c in found if _ACCOUNT.match(c.principal)})
    given = f"{EXTRA_ACCOUNTS}={','.join(accounts)} " if accounts else ""
    return f"{given}pytest -p harness.pytest_plugin {path} --target local"


def module(found: Sequence[Case], fault: Fault, source: str, path: str) -> str:
    """The text of the pytest module replaying ``found``."""
    return _MODULE.format(
        source=source,
        command=command(found, path),
        fault=pformat(fault, width=96, sort_dicts=False),
        cases=pformat(list(found), width=96, sort_dicts=False),
    )
