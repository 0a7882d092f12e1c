"""The SageMaker XGBoost algorithm's training entry point, run as the container's process.

`python -m harness.runtimes.training.xgboost_algorithm <root>` reads SageMaker's layout under
`<root>/opt/ml`: CSV channels `train` (required) and `validation` (optional), label in the first
column and no header; hyperparameters as the strings SageMaker passes. It trains, prints each
round's metrics the way the container's logs show them (`[59]#011train-auc:...`), and saves the
booster as `xgboost-model` in the model directory. Any failure is written to `output/failure`
and the process exits non-zero, which is how SageMaker learns why a container failed.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from harness.runtimes.training.hyperparameters import parse_hyperparameters
from harness.runtimes.training.layout import ContainerLayout

MODEL_FILE = "xgboost-model"
CSV = "text/csv"
# Tab is logged as `#011` by the container's syslog relay; metric regexes match on that.
LOG_SEPARATOR = "#011"


class AlgorithmError(Exception):
    """The job's inputs cannot be trained on; the message goes to output/failure."""


class PrintMetrics(xgb.callback.TrainingCallback):
    """Print one line per round with every channel's metrics, as SageMaker's logs show."""

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
        scores = [
            f"{channel}-{metric}:{values[-1]:.5f}"
            for channel, metrics in evals_log.items()
            for metric, values in metrics.items()
        ]
        print(f"[{epoch}]{LOG_SEPARATOR}" + LOG_SEPARATOR.join(scores), flush=True)
        return False


def load_channel(layout: ContainerLayout, channel: str) -> xgb.DMatrix:
    """All CSV files of a channel, label first: one DMatrix."""
    content_type = layout.read_config("inputdataconfig")[channel].get("ContentType")
    if (content_type or "").split(";")[0].strip() != CSV:
        raise AlgorithmError(
            f"channel {channel}: content type {content_type or 'unset (libsvm)'} is not "
            f"supported; use {CSV}"
        )
    files = sorted(path for path in layout.channel_dir(channel).rglob("*") if path.is_file())
    if not files:
        raise AlgorithmError(f"channel {channel} has no data files")
    try:
        rows = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    except ValueError as exc:
        raise AlgorithmError(f"channel {channel}: cannot read CSV ({exc})") from None
    if rows.shape[1] < 2:
        raise AlgorithmError(f"channel {channel}: need a label column and at least one feature")
    return xgb.DMatrix(rows[:, 1:], label=rows[:, 0])


def train(layout: ContainerLayout) -> None:
    settings = parse_hyperparameters(layout.read_config("hyperparameters"))
    channels = layout.read_config("inputdataconfig")
    if "train" not in channels:
        raise AlgorithmError("channel train is required")
    unexpected = sorted(set(channels) - {"train", "validation"})
    if unexpected:
        raise AlgorithmError(f"unexpected channels: {', '.join(unexpected)}")
    evals = [
        (load_channel(layout, name), name) for name in ("train", "validation") if name in channels
    ]
    if settings.early_stopping_rounds and len(evals) < 2:
        raise AlgorithmError("early_stopping_rounds needs a validation channel")
    booster = xgb.train(
        settings.params,
        evals[0][0],
        num_boost_round=settings.num_round,
        evals=evals,
        early_stopping_rounds=settings.early_stopping_rounds,
        verbose_eval=False,
        callbacks=[PrintMetrics()],
    )
    with warnings.catch_warnings():
        # The container's file name has no extension; xgboost then picks UBJSON and says so.
        warnings.filterwarnings("ignore", message=".*UBJSON format as default")
        booster.save_model(layout.model_dir / MODEL_FILE)


def main(argv: list[str]) -> int:
    layout = ContainerLayout(Path(argv[1]))
    try:
        train(layout)
    except Exception as exc:  # every failure must reach output/failure, as in the container
        message = str(exc) if isinstance(exc, AlgorithmError | ValueError) else repr(exc)
        layout.failure_file.write_text(message)
        print(f"training failed: {message}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
