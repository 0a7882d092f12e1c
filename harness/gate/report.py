"""Write the gate's findings as SARIF 2.1.0 (code scanning) and JUnit XML (CI test views)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness import sarif
from harness.gate.findings import Finding
from harness.gate.skips import Skipped
from harness.rules import gate_rules

TOOLS = ("cfn-lint", "checkov", "gate", "prove")


def write_sarif(findings: list[Finding], skipped: list[Skipped], target: Path, root: Path) -> None:
    """One SARIF run per tool of the gate, our rules with their metadata (the writer is
    shared with live runs)."""
    sarif.write_sarif(findings, target, root, TOOLS, skipped, gate_rules())


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
        files = sorted({sarif.relative(str(p), root) for p in checked.get(tool, [])})
        suite = ET.SubElement(suites, "testsuite", name=tool, tests=str(len(files)))
        failures = skips = 0
        for file in files:
            case = ET.SubElement(suite, "testcase", classname=f"gate.{tool}", name=file)
            mine = [f for f in findings if f.tool == tool and sarif.relative(f.file, root) == file]
            passed_over = [
                s
                for s in skipped
                if s.finding.tool == tool and sarif.relative(s.finding.file, root) == file
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
