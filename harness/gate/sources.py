"""Find and load what the gate checks: CloudFormation templates and pipeline definitions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

SUFFIXES = (".yaml", ".yml", ".json", ".template")


@dataclass(frozen=True)
class Document:
    """A parsed file and what it is: ``template``, ``pipeline`` or ``unreadable``."""

    path: Path
    kind: str
    content: Any = None
    error: str = ""


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus every YAML/JSON file under the named directories."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    return found


def load(path: Path) -> Document | None:
    """Parse a file with cfn-lint's decoder (YAML short tags included) and classify it.

    A file is a template when it is a mapping with ``Resources``; a CodePipeline
    Create/UpdatePipeline input (``{"pipeline": {...}}``) is a pipeline. Anything else is
    not the gate's business and yields None; a YAML/JSON error is reported as unreadable.
    """
    content, errors = decode(str(path))
    if errors:
        return Document(path, "unreadable", error="; ".join(e.message for e in errors))
    if isinstance(content, dict) and isinstance(content.get("Resources"), dict):
        return Document(path, "template", content)
    if isinstance(content, dict) and isinstance(content.get("pipeline"), dict):
        return Document(path, "pipeline", content)
    return None
