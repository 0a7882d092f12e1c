"""SageMaker's training container layout (`/opt/ml/...`), rooted in a local directory.

Both sides use it: the executor fills the input side, the algorithm process reads it and
fills `model/` or writes `output/failure`, as a container would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ContainerLayout:
    """Paths under `<root>/opt/ml` that SageMaker mounts into a training container."""

    root: Path

    @property
    def base(self) -> Path:
        return self.root / "opt" / "ml"

    @property
    def config_dir(self) -> Path:
        return self.base / "input" / "config"

    def channel_dir(self, channel: str) -> Path:
        return self.base / "input" / "data" / channel

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def failure_file(self) -> Path:
        return self.base / "output" / "failure"

    def create(self) -> None:
        for directory in (self.config_dir, self.model_dir, self.failure_file.parent):
            directory.mkdir(parents=True, exist_ok=True)

    def write_config(self, name: str, content: Any) -> None:
        (self.config_dir / f"{name}.json").write_text(json.dumps(content, indent=2))

    def read_config(self, name: str) -> Any:
        return json.loads((self.config_dir / f"{name}.json").read_text())
