"""What training produced, as the checks see it, and how they score it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

HOLDOUT = Path(__file__).resolve().parents[2] / "infra" / "data" / "holdout.csv"
MODEL_FILE = "xgboost-model"  # what SageMaker's XGBoost writes into model.tar.gz


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive outranks a negative (ties half)."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    wins = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((wins + 0.5 * ties) / (len(positives) * len(negatives)))
