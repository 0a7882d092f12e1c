"""The shipped training data is what the generator makes, in SageMaker XGBoost's CSV layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xgboost

from harness import training_data


def test_committed_csvs_are_reproduced_bit_for_bit(tmp_path: Path) -> None:
    for path in training_data.write(tmp_path):
        committed = training_data.DATA_DIR / path.name
        assert path.read_bytes() == committed.read_bytes(), f"{committed} is stale: regenerate"


def test_layout_is_label_first_without_header() -> None:
    for name, count in training_data.SPLITS.items():
        lines = (training_data.DATA_DIR / f"{name}.csv").read_text().splitlines()
        assert len(lines) == count
        first = lines[0].split(",")
        assert first[0] in {"0", "1"}  # a header would start with a name
        assert len(first) == 1 + training_data.FEATURES


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def test_data_is_learnable_but_not_trivial() -> None:
    splits = training_data.generate()
    train, holdout = splits["train"], splits["holdout"]
    assert 0.3 < train[:, 0].mean() < 0.7
    booster = xgboost.train(
        {"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "seed": 7},
        xgboost.DMatrix(train[:, 1:], label=train[:, 0]),
        num_boost_round=60,
    )
    auc = _auc(holdout[:, 0], booster.predict(xgboost.DMatrix(holdout[:, 1:])))
    assert 0.85 < auc < 0.99
