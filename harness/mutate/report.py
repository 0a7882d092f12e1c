"""What a mutation run found, per mutant, and the reports people and tools read: a Markdown
summary with a table, ``mutants.json`` and JUnit XML (one test case per mutant: killed and
equivalent pass, survived fails, skipped is skipped), ending in the score line."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from harness.mutate.mutants import Mutant


class Outcome(StrEnum):
    KILLED = "killed"  # a check failed under the mutant
    SURVIVED = "survived"  # every check bearing on it still passed: a finding
    EQUIVALENT = "equivalent"  # no request the checks sample is decided differently
    SKIPPED = "skipped"  # not applied: AWS would refuse it, or it could not be undone


EQUIVALENT_BY_ENGINE = "equivalent (engine, over the requests the checks sample)"


@dataclass(frozen=True)
class Result:
    """One mutant's outcome. Killed: the check and cell that failed, its message and the
    statements its evidence names; equivalent, survived, skipped: why."""

    mutant: Mutant
    outcome: Outcome
    detail: str
    check: str = ""
    cell: str = ""
    statements: tuple[str, ...] = ()
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        site = self.mutant.site
        return {
            "id": self.mutant.id,
            "outcome": self.outcome.value,
            "kind": site.kind.value,
            "policy": site.name,
            "resource": site.resource,
            "policy_name": site.policy_name or None,
            "statement": {"index": self.mutant.index, "sid": self.mutant.sid},
            "operator": self.mutant.operator,
            "before": self.mutant.before,
            "after": self.mutant.after,
            "detail": self.detail,
            "killed_by": {"check": self.check, "cell": self.cell} if self.check else None,
            "statements_named": list(self.statements),
            "seconds": round(self.seconds, 2),
        }


@dataclass
class Score:
    """All results of a run, and the mutants left out before any was tried."""

    results: list[Result] = field(default_factory=list)
    identical: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def count(self, outcome: Outcome) -> int:
        return Counter(r.outcome for r in self.results)[outcome]

    @property
    def line(self) -> str:
        return (
            f"killed={self.count(Outcome.KILLED)} survived={self.count(Outcome.SURVIVED)} "
            f"equivalent={self.count(Outcome.EQUIVALENT)}"
        )

    @property
    def survivors(self) -> list[Result]:
        return [r for r in self.results if r.outcome is Outcome.SURVIVED]

    def progress_counts(self) -> str:
        counted = Counter(r.outcome for r in self.results)
        return " ".join(f"{o.value}={counted[o]}" for o in Outcome)


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _why(result: Result, width: int = 160) -> str:
    if result.outcome is Outcome.KILLED:
        named = f"; names {', '.join(result.statements)}" if result.statements else ""
        return f"{result.check}: `{result.cell}`{named}"
    return result.detail[:width]


def summary_markdown(score: Score) -> str:
    lines = [
        "# harness mutate",
        "",
        f"`{score.line}`",
        "",
        f"- mutants tried: {len(score.results)} ({score.count(Outcome.SKIPPED)} of them not "
        "applied: AWS would refuse them or they could not be undone)",
        f"- identical to the original, not counted: {len(score.identical)}",
        f"- refused by AWS's rules before anything was tried: {len(score.rejected)}",
        f"- {EQUIVALENT_BY_ENGINE}: {score.count(Outcome.EQUIVALENT)}",
        f"- wall time: {score.seconds:.0f} s",
        "",
        "| # | policy | statement | mutant | outcome | by / why |",
        "|---|---|---|---|---|---|",
    ]
    for number, result in enumerate(score.results, 1):
        mutant = result.mutant
        lines.append(
            f"| {number} | {_cell_text(mutant.site.short)} | {_cell_text(mutant.sid)} | "
            f"{_cell_text(mutant.operator)} | {result.outcome.value} | "
            f"{_cell_text(_why(result))} |"
        )
    if score.survivors:
        lines += ["", "## Survivors", ""]
        for result in score.survivors:
            lines += [
                f"### {result.mutant.id}",
                "",
                f"{result.mutant.site.name}: {result.detail}",
                "",
                "before:",
                "```json",
                json.dumps(result.mutant.before, indent=2),
                "```",
                "after:",
                "```json",
                json.dumps(result.mutant.after, indent=2),
                "```",
                "",
            ]
    if score.rejected:
        lines += ["", "## Refused by AWS's rules", ""]
        lines += [f"- {mutant}: {why}" for mutant, why in score.rejected.items()]
    return "\n".join(lines) + "\n"


def junit_xml(score: Score) -> str:
    suite = ElementTree.Element(
        "testsuite",
        name="harness mutate",
        tests=str(len(score.results)),
        failures=str(score.count(Outcome.SURVIVED)),
        skipped=str(score.count(Outcome.SKIPPED)),
        time=f"{score.seconds:.2f}",
    )
    for result in score.results:
        mutant = result.mutant
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"mutate.{mutant.site.kind.value}.{mutant.site.short}",
            name=f"#{mutant.index} {mutant.sid}: {mutant.operator}",
            time=f"{result.seconds:.2f}",
        )
        if result.outcome is Outcome.SURVIVED:
            failure = ElementTree.SubElement(case, "failure", message=result.detail)
            failure.text = json.dumps({"before": mutant.before, "after": mutant.after}, indent=2)
        elif result.outcome is Outcome.SKIPPED:
            ElementTree.SubElement(case, "skipped", message=result.detail)
        else:
            ElementTree.SubElement(case, "system-out").text = _why(result, width=10_000)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def write_reports(score: Score, directory: Path) -> list[Path]:
    """``summary.md``, ``mutants.json`` and ``junit.xml`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = {
        "summary.md": summary_markdown(score),
        "mutants.json": json.dumps(
            {
                "score": score.line,
                "seconds": round(score.seconds, 1),
                "identical": score.identical,
                "rejected": score.rejected,
                "mutants": [r.as_json() for r in score.results],
            },
            indent=2,
        )
        + "\n",
        "junit.xml": junit_xml(score),
    }
    for name, text in written.items():
        (directory / name).write_text(text)
    return [directory / name for name in written]
