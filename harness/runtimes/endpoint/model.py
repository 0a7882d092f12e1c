"""Fetch a model artifact with the model's execution role and load it as the container would.

SageMaker downloads `ModelDataUrl` as the role passed to CreateModel, so a role that cannot read
the object or decrypt it under the artifact key leaves the endpoint Failed; the same happens
here because the download goes through that role's access.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from harness.runtimes.aws import AwsAccess, download_object, split_s3_uri

if TYPE_CHECKING:  # imported where a model is loaded: it costs a second at import
    import xgboost as xgb

# The file SageMaker's XGBoost training writes; the serving container also accepts a lone file.
MODEL_FILE = "xgboost-model"


class ModelLoadError(Exception):
    """The artifact is there but holds no loadable model; the message says why."""


def download_model(access: AwsAccess, model_data_url: str, directory: Path) -> Path:
    """Download `model.tar.gz` into `directory` and extract it there; return the model dir."""
    bucket, key = split_s3_uri(model_data_url)
    archive = directory / "model.tar.gz"
    download_object(access.client("s3"), bucket, key, archive)
    model_dir = directory / "model"
    model_dir.mkdir()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(model_dir, filter="data")  # refuses absolute paths and `..`
    except (tarfile.TarError, OSError) as exc:
        raise ModelLoadError(f"model data {model_data_url} is not a valid tar.gz: {exc}") from exc
    return model_dir


def load_booster(model_dir: Path) -> xgb.Booster:
    """`xgboost-model`, or the archive's only file, loaded as an XGBoost booster."""
    files = [path for path in model_dir.rglob("*") if path.is_file()]
    named = [path for path in files if path.name == MODEL_FILE]
    candidates = named or files
    if len(candidates) != 1:
        found = ", ".join(sorted(path.name for path in files)) or "no files"
        raise ModelLoadError(
            f"expected one model file ({MODEL_FILE}) in the artifact, found {found}"
        )
    import xgboost as xgb

    booster = xgb.Booster()
    try:
        # From bytes: xgboost detects the format itself (a path without extension warns).
        booster.load_model(bytearray(candidates[0].read_bytes()))
    except xgb.core.XGBoostError as exc:
        raise ModelLoadError(
            f"cannot load {candidates[0].name} as an XGBoost model: {exc}"
        ) from exc
    return booster
