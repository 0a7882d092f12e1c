"""Requests on which the SMT model and the engine once disagreed, kept as YAML cases.

Each case is a scenario (the keyword arguments of ``evaluate``, the request spelled out), the
decision AWS documents for it, and what the disagreement was. Both the engine and the model
must reach the expected decision. The differential test appends the minimal failing
scenario to ``corpus/found.yaml`` for a person to confirm, explain and keep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.policy import Principal, Request
from tests.unit.policy.corpus_cases import principal_of

CORPUS = Path(__file__).parent / "corpus"
FOUND = CORPUS / "found.yaml"


def principal_text(principal: Principal) -> str:
    """A principal as the corpus spells it (``service:``, ``federated:``, ``anonymous``)."""
    kind = principal.kind.value
    if kind == "Service":
        return f"service:{principal.arn}"
    if kind == "WebIdentityUser":
        return f"federated:{principal.arn}"
    if kind == "Anonymous":
        return "anonymous"
    return principal.arn


def request_of(scenario: dict[str, Any]) -> Request:
    principal = scenario["principal"]
    if isinstance(principal, str):
        principal = principal_of(principal)
    return Request(principal, scenario["action"], scenario["resource"], scenario["context"])


def evaluate_kwargs(scenario: dict[str, Any]) -> dict[str, Any]:
    return {
        "identity": scenario["identity"],
        "resource": scenario["resource_policy"],
        "resource_account": scenario["resource_account"],
        "resource_kind": scenario["resource_kind"],
        "boundary": scenario["boundary"],
        "scps": scenario["scps"],
    }


def as_case(scenario: dict[str, Any], engine: str, model: str) -> dict[str, Any]:
    """A scenario as a corpus case, to be completed by hand (``expect``, ``why``)."""
    case = {**scenario, "principal": principal_text(scenario["principal"])}
    case["found"] = f"engine: {engine}; model: {model}"
    case["expect"] = "TODO: allow or deny, as AWS documents it"
    return case


def record(case: dict[str, Any]) -> Path:
    """Append ``case`` to the pending cases in ``corpus/found.yaml``."""
    found = yaml.safe_load(FOUND.read_text()) if FOUND.exists() else None
    cases = (found or {}).get("cases") or []
    if case in cases:  # hypothesis may replay the minimal example
        return FOUND
    cases.append(case)
    FOUND.write_text(yaml.safe_dump({"cases": cases}, sort_keys=False, allow_unicode=True))
    return FOUND


def load() -> list[dict[str, Any]]:
    cases = []
    for file in sorted(CORPUS.glob("*.yaml")):
        if file == FOUND:
            continue
        data = yaml.safe_load(file.read_text())
        cases += [{"id": f"{file.stem}: {c['name']}", **c} for c in data["cases"]]
    return cases
