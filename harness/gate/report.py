"""Write the gate's findings as SARIF 2.1.0 (code scanning) and JUnit XML (CI test views)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.gate.findings import Finding

TOOLS = ("cfn-lint", "checkov", "gate", "prove")
_SARIF_LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note"}


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def write_sarif(findings: list[Finding], target: Path, root: Path) -> None:
    """One SARIF run per tool, with a rule entry per check id that fired."""
    runs = []
    for tool in TOOLS:
        mine = [f for f in findings if f.tool == tool]
        rules = {f.check_id: f for f in mine}
        runs.append(
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "rules": [
                            {
                                "id": rule_id,
                                "shortDescription": {"text": f.title},
                                "help": {"text": f.fix},
                            }
                            for rule_id, f in sorted(rules.items())
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f.check_id,
                        "level": _SARIF_LEVEL.get(f.severity, "error"),
                        "message": {"text": f"{f.resource}: {f.message}. Fix: {f.fix}"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": _relative(f.file, root)},
                                    **({"region": {"startLine": f.line}} if f.line else {}),
                                }
                            }
                        ],
                    }
                    for f in mine
                ],
            }
        )
    document = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": runs,
    }
    target.write_text(json.dumps(document, indent=2) + "\n")


def write_junit(
    findings: list[Finding], checked: dict[str, list[Path]], target: Path, root: Path
) -> None:
    """A test suite per tool and a test case per file it checked; findings are the failures."""
    suites = ET.Element("testsuites", name="gate")
    for tool in TOOLS:
        files = sorted({_relative(str(p), root) for p in checked.get(tool, [])})
        suite = ET.SubElement(suites, "testsuite", name=tool, tests=str(len(files)))
        failures = 0
        for file in files:
            case = ET.SubElement(suite, "testcase", classname=f"gate.{tool}", name=file)
            mine = [f for f in findings if f.tool == tool and _relative(f.file, root) == file]
            if mine:
                failures += 1
                failure = ET.SubElement(case, "failure", message=f"{len(mine)} finding(s)")
                failure.text = "\n".join(f.line_text() for f in mine)
        suite.set("failures", str(failures))
    ET.indent(suites)
    ET.ElementTree(suites).write(target, encoding="utf-8", xml_declaration=True)
