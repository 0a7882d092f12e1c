"""The reports of a mutation run: the score line, the Markdown table with each survivor
written out, mutants.json and JUnit (killed and equivalent pass, survived fails)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

from harness.mutate.mutants import generate
from harness.mutate.report import Outcome, Result, Score, write_reports
from harness.mutate.sites import Kind, Site

KEY = "arn:aws:kms:us-east-1:111111111111:key/k"
SITE = Site(
    Kind.KEY,
    KEY,
    "111111111111",
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Use",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:role/r"},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ],
    },
)


def _score() -> Score:
    mutants = {m.operator: m for m in generate([SITE]).mutants}
    return Score(
        results=[
            Result(
                mutants["remove the statement"],
                Outcome.KILLED,
                "r: kms:Decrypt was refused",
                "key",
                "r-Decrypt",
                ("no key policy allowed kms:Decrypt",),
            ),
            Result(mutants["widen Principal to *"], Outcome.SURVIVED, "every cell passes"),
            Result(
                mutants["widen Action to kms:*"],
                Outcome.EQUIVALENT,
                "equivalent (engine, over the requests the checks sample)",
            ),
            Result(mutants["flip Effect to Deny"], Outcome.SKIPPED, "AWS would refuse it"),
        ],
        identical=["key #0 Use: widen Resource to *"],
        seconds=12.0,
    )


def test_score_line() -> None:
    assert _score().line == "killed=1 survived=1 equivalent=1"


def test_reports(tmp_path: Path) -> None:
    written = write_reports(_score(), tmp_path)
    assert sorted(p.name for p in written) == ["junit.xml", "mutants.json", "summary.md"]

    summary = (tmp_path / "summary.md").read_text()
    assert "`killed=1 survived=1 equivalent=1`" in summary
    assert "| 1 | key | Use | remove the statement | killed | key: `r-Decrypt`" in summary
    assert "identical to the original, not counted: 1" in summary
    survivor = summary.split("## Survivors", 1)[1]
    assert "key #0 Use: widen Principal to *" in survivor and '"Principal": "*"' in survivor

    document = json.loads((tmp_path / "mutants.json").read_text())
    assert document["score"] == "killed=1 survived=1 equivalent=1"
    killed = document["mutants"][0]
    assert killed["killed_by"] == {"check": "key", "cell": "r-Decrypt"}
    assert killed["before"]["Sid"] == "Use" and killed["after"] is None

    suite = ElementTree.parse(tmp_path / "junit.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "1")
    failed = [case.get("name") for case in suite if case.find("failure") is not None]
    assert failed == ["#0 Use: widen Principal to *"]
    assert json.loads(suite[1].find("failure").text)["after"]["Principal"] == "*"
