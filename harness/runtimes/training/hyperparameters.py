"""Check and convert SageMaker XGBoost hyperparameters (all strings) for xgboost.train.

The accepted names, types and ranges are data (`data/xgboost_hyperparameters.yaml`); an unknown
or malformed hyperparameter fails the job naming it, as the SageMaker container does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.yaml_safe import safe_load

SPEC_FILE = Path(__file__).parents[1] / "data" / "xgboost_hyperparameters.yaml"


class HyperparameterError(ValueError):
    """A hyperparameter is unknown, missing or out of range."""


@dataclass(frozen=True)
class TrainingParameters:
    """Booster parameters plus the two round-level settings xgboost.train takes separately."""

    params: dict[str, Any]
    num_round: int
    early_stopping_rounds: int | None = None


@cache
def _spec() -> dict[str, dict[str, Any]]:
    return safe_load(SPEC_FILE.read_text())


def _convert(name: str, raw: str, rule: dict[str, Any]) -> Any:
    kind = rule["type"]
    try:
        value: Any = (
            {"int": int, "float": float, "str": str}[kind](raw)
            if kind != "list"
            else [item.strip() for item in raw.split(",") if item.strip()]
        )
    except ValueError:
        raise HyperparameterError(f"hyperparameter {name}={raw!r} is not a valid {kind}") from None
    choices = rule.get("choices")
    values = value if isinstance(value, list) else [value]
    if choices and any(item not in choices for item in values):
        raise HyperparameterError(
            f"hyperparameter {name}={raw!r} is not one of: {', '.join(choices)}"
        )
    low, high = rule.get("range") or (None, None)
    if (low is not None and value < low) or (high is not None and value > high):
        raise HyperparameterError(f"hyperparameter {name}={raw!r} is outside [{low}, {high}]")
    return value


def parse_hyperparameters(raw: dict[str, str]) -> TrainingParameters:
    """Validate all of `raw` at once so the failure names every offending hyperparameter."""
    spec = _spec()
    unknown = sorted(set(raw) - set(spec))
    if unknown:
        raise HyperparameterError(f"unknown hyperparameters: {', '.join(unknown)}")
    missing = sorted(
        name for name, rule in spec.items() if rule.get("required") and name not in raw
    )
    if missing:
        raise HyperparameterError(f"missing required hyperparameters: {', '.join(missing)}")
    converted = {name: _convert(name, str(value), spec[name]) for name, value in raw.items()}
    rounds = {name: converted.pop(name) for name in list(converted) if spec[name].get("round")}
    return TrainingParameters(
        params=converted,
        num_round=rounds["num_round"],
        early_stopping_rounds=rounds.get("early_stopping_rounds"),
    )
