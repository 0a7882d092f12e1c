"""Load the YAML decision corpus: each file has ``defaults`` and ``cases``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from harness.policy import Principal, Request

CORPUS = Path(__file__).parent / "corpus"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: the corpus is read at collection, by every xdist
worker, and the pure-Python loader took ten times as long (0.3 s)."""


@lru_cache(maxsize=4096)  # the same few callers, request after request (as ``from_arn``)
def principal_of(text: str) -> Principal:
    """``service:<name>``, ``federated:<provider>``, ``anonymous`` or an ARN/account id."""
    if text == "anonymous":
        return Principal.anonymous()
    if text.startswith("service:"):
        return Principal.service(text.removeprefix("service:"))
    if text.startswith("federated:"):
        return Principal.federated(text.removeprefix("federated:"))
    return Principal.from_arn(text)


@dataclass(frozen=True)
class Case:
    """One documented request and its expected decision."""

    id: str
    source: str
    request: Request
    kwargs: dict[str, Any]
    allowed: bool
    decided_by: str | int | None
    reason_contains: str | None


def _case(file: Path, raw: dict[str, Any], defaults: dict[str, Any]) -> Case:
    spec = {**defaults, **raw}
    request = Request(
        principal_of(spec["principal"]), spec["action"], spec["resource"], spec.get("context") or {}
    )
    kwargs = {
        "identity": spec.get("identity") or [],
        "resource": spec.get("resource_policy"),
        "resource_account": spec.get("resource_account"),
        "resource_kind": spec.get("resource_kind", "generic"),
        "boundary": spec.get("boundary"),
        "scps": spec.get("scps") or [],
        "session": spec.get("session") or [],
        "rcps": spec.get("rcps") or [],
    }
    if spec["expect"] not in ("allow", "deny"):
        raise ValueError(f"{file.name}: {spec['name']}: expect must be allow or deny")
    return Case(
        f"{file.stem}: {spec['name']}",
        spec["source"],
        request,
        kwargs,
        spec["expect"] == "allow",
        spec.get("decided_by"),
        spec.get("reason_contains"),
    )


def load_corpus() -> list[Case]:
    cases = []
    for file in sorted(CORPUS.glob("*.yaml")):
        data = yaml.load(file.read_text(), Loader=LOADER)
        defaults = data.get("defaults") or {}
        cases += [_case(file, raw, defaults) for raw in data["cases"]]
    return cases
