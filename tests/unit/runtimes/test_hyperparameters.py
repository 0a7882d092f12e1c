"""SageMaker XGBoost hyperparameters: strings in, typed xgboost parameters out, or a reason."""

from __future__ import annotations

import pytest

from harness.runtimes.training.hyperparameters import HyperparameterError, parse_hyperparameters


def test_strings_become_booster_parameters_and_rounds() -> None:
    parsed = parse_hyperparameters(
        {
            "num_round": "60",
            "early_stopping_rounds": "5",
            "objective": "binary:logistic",
            "eval_metric": "auc,logloss",
            "max_depth": "4",
            "eta": "0.2",
            "seed": "7",
        }
    )

    assert parsed.num_round == 60
    assert parsed.early_stopping_rounds == 5
    assert parsed.params == {
        "objective": "binary:logistic",
        "eval_metric": ["auc", "logloss"],
        "max_depth": 4,
        "eta": 0.2,
        "seed": 7,
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            {"num_round": "5", "max_dpeth": "3", "colour": "red"},
            "unknown hyperparameters: colour, max_dpeth",
        ),
        ({"eta": "0.1"}, "missing required hyperparameters: num_round"),
        ({"num_round": "ten"}, "num_round='ten' is not a valid int"),
        ({"num_round": "0"}, "num_round='0' is outside [1, None]"),
        ({"num_round": "5", "subsample": "1.5"}, "subsample='1.5' is outside [0, 1]"),
        ({"num_round": "5", "objective": "binary:magic"}, "objective='binary:magic' is not one of"),
        (
            {"num_round": "5", "eval_metric": "auc,accuracy"},
            "eval_metric='auc,accuracy' is not one of",
        ),
    ],
)
def test_bad_hyperparameters_are_named(raw: dict[str, str], reason: str) -> None:
    with pytest.raises(HyperparameterError) as raised:
        parse_hyperparameters(raw)

    assert reason in str(raised.value)
