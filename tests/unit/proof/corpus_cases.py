"""Requests on which the SMT model and the engine once disagreed, kept as YAML cases.

Each case is a scenario (the keyword arguments of ``evaluate``, the request spelled out), the
decision AWS documents for it, and what the disagreement was. Both the engine and the model
must reach the expected decision. The differential test appends the minimal failing
scenario to ``corpus/found.yaml`` for a person to confirm, explain and keep.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from harness.policy import Principal, Request
from harness.policy.organization import Organization
from harness.policy.policy import policies
from harness.proof.concrete import query_of
from harness.proof.decision import Guardrails, Query
from tests.unit.policy.corpus_cases import principal_of
from tests.unit.proof.strategies import ACCOUNTS

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


def organization_of(scenario: dict[str, Any]) -> Organization | None:
    """The scenario's organization: its management account, every other account of the
    pool a member under the root; the first SCP attached to the root, the rest (or the
    first again) to each member."""
    spec = scenario.get("organization")
    if spec is None:
        return None
    scps = policies(spec["scps"], "SCP")
    members = [a for a in ACCOUNTS if a != spec["management"]]
    attached = {"r-proof": scps[:1], **{m: scps[1:] or scps[:1] for m in members}}
    return Organization(
        "o-proof", "r-proof", spec["management"], dict.fromkeys(members, ()), attached
    )


def evaluate_kwargs(scenario: dict[str, Any]) -> dict[str, Any]:
    organization = organization_of(scenario)
    scps = scenario.get("scps") or []
    if organization is not None:
        scps = organization.scps_for(request_of(scenario).principal)
    return {
        "identity": scenario["identity"],
        "resource": scenario["resource_policy"],
        "resource_account": scenario["resource_account"],
        "resource_kind": scenario["resource_kind"],
        "boundary": scenario["boundary"],
        "scps": scps,
        "session": scenario.get("session") or [],
        "rcps": scenario.get("rcps") or [],
    }


def query(scenario: dict[str, Any]) -> Query:
    """The model's query for the scenario: its SCPs chosen by the caller's account, as an
    organization attaches them, where the scenario has one."""
    found = query_of(**evaluate_kwargs(scenario))
    organization = organization_of(scenario)
    if organization is None:
        return found
    return replace(found, scps=Guardrails(organization=organization))


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
