"""The run's report files on disk: the formats chosen (``FORMATS``) and, always, the evidence.

Apart from :mod:`harness.report`, which builds the texts, because the HTML page is rendered
from that module's helpers (:mod:`harness.html_report`) and imports point one way."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.html_report import render_html
from harness.report import FORMATS, RunRecord, summary_markdown


def _files(record: RunRecord, report_format: str) -> dict[str, str]:
    """The files of one format this module writes (JUnit is pytest's, SARIF its writer's)."""

    def as_json(document: Any) -> str:
        return json.dumps(document, indent=2) + "\n"

    if report_format == "md":
        return {"summary.md": summary_markdown(record)}
    if report_format == "html":
        return {"report.html": render_html(record)}
    if report_format == "json":
        return {
            "access-matrix.json": as_json(
                {"cells": record.matrix_cells, "findings": record.matrix_findings}
            ),
            "access-matrix.txt": (record.matrix_table or "(not computed)") + "\n",
            "probes.json": as_json([asdict(p) for p in record.probes]),
            "phases.json": as_json(
                {"phases": record.phases, "pipeline_stages": record.pipeline_stages}
            ),
            **(
                {"workers.json": as_json([run.as_json() for run in record.workers])}
                if record.workers
                else {}
            ),
        }
    return {}


def write_reports(
    record: RunRecord, directory: Path, formats: Iterable[str] = FORMATS
) -> list[Path]:
    """Write the files of the chosen ``formats`` and, always, the evidence (the decision log
    and the target's log; split across workers, theirs one after the other) into
    ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for report_format in formats:
        for name, text in _files(record, report_format).items():
            path = directory / name
            path.write_text(text, encoding="utf-8")
            paths.append(path)
    runs = record.workers or [record]
    for name, logs in (
        ("decisions.jsonl", [run.decision_log for run in runs]),
        ("target.log", [run.target_log for run in runs]),
    ):
        present = [log for log in logs if log is not None and log.exists()]
        if present:
            paths.append(_joined(present, directory / name))
    return paths


def _joined(logs: list[Path], destination: Path) -> Path:
    """``logs`` one after the other in ``destination``: the run's one log, or its workers'
    (each worker's own copy stays in its folder of the report)."""
    with destination.open("wb") as joined:
        for log in logs:
            with log.open("rb") as part:
                shutil.copyfileobj(part, joined)
    return destination
