"""Write the gate's findings as SARIF 2.1.0 (code scanning) and JUnit XML (CI test views)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness import sarif
from harness.gate.findings import Finding

TOOLS = ("cfn-lint", "checkov", "gate")


def write_sarif(findings: list[Finding], target: Path, root: Path) -> None:
    """One SARIF run per tool of the gate (the writer is shared with live runs)."""
    sarif.write_sarif(findings, target, root, TOOLS)


def write_junit(
    findings: list[Finding], checked: dict[str, list[Path]], target: Path, root: Path
) -> None:
    """A test suite per tool and a test case per file it checked; findings are the failures."""
    suites = ET.Element("testsuites", name="gate")
    for tool in TOOLS:
        files = sorted({sarif.relative(str(p), root) for p in checked.get(tool, [])})
        suite = ET.SubElement(suites, "testsuite", name=tool, tests=str(len(files)))
        failures = 0
        for file in files:
            case = ET.SubElement(suite, "testcase", classname=f"gate.{tool}", name=file)
            mine = [f for f in findings if f.tool == tool and sarif.relative(f.file, root) == file]
            if mine:
                failures += 1
                failure = ET.SubElement(case, "failure", message=f"{len(mine)} finding(s)")
                failure.text = "\n".join(f.line_text() for f in mine)
        suite.set("failures", str(failures))
    ET.indent(suites)
    ET.ElementTree(suites).write(target, encoding="utf-8", xml_declaration=True)
