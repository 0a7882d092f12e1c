"""The XGBoost algorithm's entry point on a prepared container layout, in-process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import xgboost as xgb

from harness.runtimes.training import xgboost_algorithm
from harness.runtimes.training.layout import ContainerLayout
from tests.unit.runtimes.conftest import INFRA

HYPERPARAMETERS = {"objective": "binary:logistic", "eval_metric": "auc", "num_round": "3"}


def prepare(root: Path, channels: dict[str, str | None], data: dict[str, str]) -> ContainerLayout:
    layout = ContainerLayout(root)
    layout.create()
    layout.write_config("hyperparameters", HYPERPARAMETERS)
    layout.write_config(
        "inputdataconfig", {name: {"ContentType": ct} for name, ct in channels.items()}
    )
    for name, text in data.items():
        layout.channel_dir(name).mkdir(parents=True)
        (layout.channel_dir(name) / "part.csv").write_text(text)
    return layout


def test_trains_on_the_train_channel_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = prepare(tmp_path, {"train": "text/csv"}, {})
    layout.channel_dir("train").mkdir(parents=True)
    shutil.copy(INFRA / "data" / "train.csv", layout.channel_dir("train") / "train.csv")

    assert xgboost_algorithm.main(["algorithm", str(tmp_path)]) == 0

    assert capsys.readouterr().out.splitlines()[-1].startswith("[2]#011train-auc:")
    booster = xgb.Booster()
    booster.load_model(bytearray((layout.model_dir / "xgboost-model").read_bytes()))
    assert booster.num_boosted_rounds() == 3
    assert booster.num_features() == 8


@pytest.mark.parametrize(
    ("channels", "data", "reason"),
    [
        (
            {"train": "text/csv"},
            {"train": "label,a,b\n1,0.5,0.2\n"},
            "channel train: cannot read CSV",
        ),
        ({"train": None}, {"train": "1,0.5\n"}, "content type unset (libsvm) is not supported"),
        (
            {"train": "text/csv"},
            {"train": "1\n0\n"},
            "need a label column and at least one feature",
        ),
        ({"validation": "text/csv"}, {"validation": "1,0.5\n"}, "channel train is required"),
        (
            {"train": "text/csv", "test": "text/csv"},
            {"train": "1,0.5\n", "test": "1,0.5\n"},
            "unexpected channels: test",
        ),
    ],
)
def test_bad_input_is_written_to_the_failure_file(
    tmp_path: Path, channels: dict[str, str | None], data: dict[str, str], reason: str
) -> None:
    layout = prepare(tmp_path, channels, data)

    assert xgboost_algorithm.main(["algorithm", str(tmp_path)]) == 1

    assert reason in layout.failure_file.read_text()
    assert not (layout.model_dir / "xgboost-model").exists()
