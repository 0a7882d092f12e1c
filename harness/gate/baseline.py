"""A baseline: today's findings, accepted, so the gate fails only on new ones.

A finding is known by its file (relative to the baseline file's folder, so the baseline works
from any working directory), resource, check id and detail, not by its line: edits above a
finding do not make it new. Counts matter: a second identical finding is new.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from harness.gate.findings import Finding
from harness.gate.skips import Skipped

VERSION = 1
Key = tuple[str, str, str, str]


class BaselineError(ValueError):
    """The baseline file is missing or not one this gate wrote."""


def _key(finding: Finding, folder: Path) -> Key:
    file = Path(os.path.relpath(Path(finding.file).resolve(), folder.resolve())).as_posix()
    return (file, finding.resource, finding.check_id, finding.detail)


def write(findings: Iterable[Finding], path: Path) -> int:
    """Write the findings as the accepted baseline; returns how many."""
    keys = sorted(_key(f, path.parent) for f in findings)
    entries = [dict(zip(("file", "resource", "check_id", "detail"), k, strict=True)) for k in keys]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": VERSION, "findings": entries}, indent=2) + "\n")
    return len(entries)


def read(path: Path) -> Counter[Key]:
    """The accepted findings of a baseline file."""
    try:
        document = json.loads(path.read_text())
        if document.get("version") != VERSION:
            raise BaselineError(f"{path}: not a gate baseline (version {VERSION})")
        return Counter(
            (e["file"], e["resource"], e["check_id"], e["detail"]) for e in document["findings"]
        )
    except FileNotFoundError as error:
        raise BaselineError(f"{path}: no such baseline (write it: --update-baseline)") from error
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise BaselineError(f"{path}: unreadable baseline: {error}") from error


def split(
    findings: Iterable[Finding], accepted: Counter[Key], path: Path
) -> tuple[list[Finding], list[Skipped], int]:
    """New findings, those the baseline accepts, and how many accepted ones are gone (fixed)."""
    remaining = Counter(accepted)
    new, known = [], []
    for finding in findings:
        key = _key(finding, path.parent)
        if remaining[key] > 0:
            remaining[key] -= 1
            known.append(Skipped(finding, f"accepted in {path}", "baseline"))
        else:
            new.append(finding)
    return new, known, sum(remaining.values())
