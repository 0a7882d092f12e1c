"""Write the gate's findings as SARIF 2.1.0 (code scanning) and JUnit XML (CI test views).

Rules of ours carry their full metadata (harness/rules.py); skipped findings are SARIF results
with a suppression (``inSource`` for an inline skip, ``external`` otherwise) and its reason.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.gate.findings import Finding
from harness.gate.skips import Skipped
from harness.rules import Rule, gate_rules

TOOLS = ("cfn-lint", "checkov", "gate")
_SARIF_LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}
# GitHub code scanning ranks security results by this 0-10 score.
_SECURITY_SEVERITY = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "3.0"}


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _rule(finding: Finding, ours: Rule | None) -> dict[str, Any]:
    """A SARIF reportingDescriptor: our metadata where the rule is ours, else the tool's."""
    if ours is None:
        return {
            "id": finding.check_id,
            "shortDescription": {"text": finding.title},
            "help": {"text": finding.fix},
            "properties": {"security-severity": _SECURITY_SEVERITY.get(finding.severity, "8.0")},
        }
    return {
        "id": ours.id,
        "shortDescription": {"text": ours.title},
        "fullDescription": {"text": ours.description},
        "helpUri": ours.doc_url,
        "help": {"text": f"{ours.fix} ({ours.doc_url})"},
        "defaultConfiguration": {"level": _SARIF_LEVEL[ours.severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[ours.severity],
            "tags": ["security"],
        },
    }


def _result(finding: Finding, root: Path, skip: Skipped | None) -> dict[str, Any]:
    region = {"region": {"startLine": finding.line}} if finding.line else {}
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "level": _SARIF_LEVEL.get(finding.severity, "error"),
        "message": {"text": f"{finding.resource}: {finding.message}. Fix: {finding.fix}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _relative(finding.file, root)},
                    **region,
                }
            }
        ],
    }
    if skip is not None:
        kind = "inSource" if skip.by == "inline" else "external"
        result["suppressions"] = [{"kind": kind, "justification": skip.reason}]
    return result


def write_sarif(findings: list[Finding], skipped: list[Skipped], target: Path, root: Path) -> None:
    """One SARIF run per tool, with a rule entry per check id that fired."""
    ours = gate_rules()
    runs = []
    for tool in TOOLS:
        failing = [(f, None) for f in findings if f.tool == tool]
        suppressed = [(s.finding, s) for s in skipped if s.finding.tool == tool]
        rules = {f.check_id: f for f, _ in failing + suppressed}
        runs.append(
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "rules": [_rule(f, ours.get(i)) for i, f in sorted(rules.items())],
                    }
                },
                "results": [_result(f, root, s) for f, s in failing + suppressed],
            }
        )
    document = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": runs,
    }
    target.write_text(json.dumps(document, indent=2) + "\n")


def write_junit(
    findings: list[Finding],
    skipped: list[Skipped],
    checked: dict[str, list[Path]],
    target: Path,
    root: Path,
) -> None:
    """A test suite per tool and a test case per file it checked; findings are the failures,
    and a file whose findings were all skipped is a skipped case with the reasons."""
    suites = ET.Element("testsuites", name="gate")
    for tool in TOOLS:
        files = sorted({_relative(str(p), root) for p in checked.get(tool, [])})
        suite = ET.SubElement(suites, "testsuite", name=tool, tests=str(len(files)))
        failures = skips = 0
        for file in files:
            case = ET.SubElement(suite, "testcase", classname=f"gate.{tool}", name=file)
            mine = [f for f in findings if f.tool == tool and _relative(f.file, root) == file]
            passed_over = [
                s
                for s in skipped
                if s.finding.tool == tool and _relative(s.finding.file, root) == file
            ]
            if mine:
                failures += 1
                failure = ET.SubElement(case, "failure", message=f"{len(mine)} finding(s)")
                failure.text = "\n".join(f.line_text() for f in mine)
            elif passed_over:
                skips += 1
                skip = ET.SubElement(case, "skipped", message=f"{len(passed_over)} skipped")
                skip.text = "\n".join(s.line_text() for s in passed_over)
        suite.set("failures", str(failures))
        suite.set("skipped", str(skips))
    ET.indent(suites)
    ET.ElementTree(suites).write(target, encoding="utf-8", xml_declaration=True)
