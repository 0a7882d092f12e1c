"""The training data set: small, deterministic, in the layout SageMaker's XGBoost reads.

It is generated rather than downloaded (nothing at run time may fetch from outside), with a
fixed seed and numpy's PCG64 stream so the committed CSVs in ``infra/data/`` can be re-made
bit for bit. Rows are ``label,f1..f8`` with no header, which is what the built-in XGBoost
algorithm expects for ``text/csv``: the label first.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np

from harness.exit_codes import exit_codes_help

SEED = 20261125
FEATURES = 8
SPLITS = {"train": 800, "validation": 200, "holdout": 200}
DATA_DIR = Path(__file__).resolve().parent.parent / "infra" / "data"


def generate() -> dict[str, np.ndarray]:
    """Return each split as an array whose first column is the 0/1 label.

    The label depends non-linearly on the features (an interaction and a threshold) plus
    noise, so a tree model clearly beats chance but does not reach a perfect score.
    """
    rng = np.random.Generator(np.random.PCG64(SEED))
    total = sum(SPLITS.values())
    x = rng.normal(size=(total, FEATURES))
    logit = (
        1.4 * x[:, 0]
        - 1.1 * x[:, 1]
        + 0.9 * x[:, 2] * x[:, 3]
        + 1.2 * (x[:, 4] > 0.5)
        - 0.6
        + rng.normal(scale=0.8, size=total)
    )
    y = (logit > 0).astype(float)
    rows = np.column_stack([y, np.round(x, 5)])
    splits, start = {}, 0
    for name, count in SPLITS.items():
        splits[name] = rows[start : start + count]
        start += count
    return splits


def to_csv(rows: np.ndarray) -> str:
    """Render rows as SageMaker XGBoost CSV: integer label first, no header."""
    out = io.StringIO()
    for row in rows:
        out.write(",".join([str(int(row[0]))] + [f"{v:.5f}" for v in row[1:]]) + "\n")
    return out.getvalue()


def write(directory: Path = DATA_DIR) -> list[Path]:
    """Write ``<split>.csv`` for every split and return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, rows in generate().items():
        path = directory / f"{name}.csv"
        path.write_text(to_csv(rows))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="harness data",
        description=__doc__.splitlines()[0],
        epilog=exit_codes_help("data"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
