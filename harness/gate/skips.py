"""Findings the gate reports as skipped instead of failing on, each with why.

* inline, in the resource's own Metadata, with a mandatory reason::

      Metadata:
        harness:
          skip:
            - id: CKV_AWS_18
              reason: access is audited by the organisation's CloudTrail data events

  A skip without a reason is refused: it becomes a GATE_002 finding and hides nothing. So is
  cfn-lint's ``ignore_checks`` (it cannot carry a reason) and a checkov ``skip`` without its
  ``comment``; checkov hides what its own skips name, so their comment is their reason.
* by id on the command line: ``--check`` keeps only the ids given, ``--skip-check`` drops
  them (shell-style patterns such as ``CKV_AWS_*``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from harness.gate.findings import Finding
from harness.gate.sources import Document
from harness.rules import gate_rules

SKIP_WITHOUT_REASON = gate_rules()["GATE_002"]


@dataclass(frozen=True)
class Skipped:
    """A finding that does not fail the gate, and why (``by`` says who decided)."""

    finding: Finding
    reason: str
    by: str  # "inline", "command line" or "baseline"

    def line_text(self) -> str:
        return f"skipped ({self.by}): {self.finding.line_text()} -- reason: {self.reason}"


@dataclass(frozen=True)
class InlineSkips:
    """The reasons given in templates, by (file, resource) and check id; refused skips."""

    reasons: dict[tuple[Path, str], dict[str, str]]
    refused: list[Finding]

    def apply(self, findings: Iterable[Finding]) -> tuple[list[Finding], list[Skipped]]:
        """Split findings into those that still fail and those a resource skips."""
        kept, skipped = [], []
        for finding in findings:
            reasons = self.reasons.get((Path(finding.file).resolve(), finding.resource), {})
            if finding.check_id in reasons:
                skipped.append(Skipped(finding, reasons[finding.check_id], "inline"))
            else:
                kept.append(finding)
        return kept, skipped


def inline_skips(documents: Iterable[Document]) -> InlineSkips:
    """Every resource's ``Metadata.harness.skip``, and the skips refused for want of a reason."""
    reasons: dict[tuple[Path, str], dict[str, str]] = {}
    refused: list[Finding] = []
    for document in documents:
        if document.kind != "template":
            continue
        for name, resource in document.content["Resources"].items():
            metadata = resource.get("Metadata") if isinstance(resource, dict) else None
            if not isinstance(metadata, dict):
                continue
            where = (document.path.resolve(), str(name))
            for check_id, reason, problem in _entries(metadata):
                if problem:
                    line = getattr(getattr(metadata, "start_mark", None), "line", None)
                    refused.append(
                        Finding.of(
                            SKIP_WITHOUT_REASON,
                            str(document.path),
                            str(name),
                            problem,
                            None if line is None else line + 1,
                        )
                    )
                else:
                    reasons.setdefault(where, {})[check_id] = reason
    return InlineSkips(reasons, refused)


def _entries(metadata: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(check id, reason, problem)`` per skip a resource's Metadata declares."""
    harness = metadata.get("harness")
    for entry in _as_list(harness.get("skip") if isinstance(harness, dict) else None):
        check_id = str(entry.get("id", "")).strip() if isinstance(entry, dict) else ""
        reason = str(entry.get("reason") or "").strip() if isinstance(entry, dict) else ""
        if not check_id:
            yield "", "", f"harness skip entry {entry!r} names no id"
        elif not reason:
            yield check_id, "", f"harness skip of {check_id} has no reason"
        else:
            yield check_id, reason, ""
    checkov = metadata.get("checkov")
    for entry in _as_list(checkov.get("skip") if isinstance(checkov, dict) else None):
        check_id = str(entry.get("id", "")).strip() if isinstance(entry, dict) else ""
        comment = str(entry.get("comment") or "").strip() if isinstance(entry, dict) else ""
        yield check_id, comment, "" if comment else f"checkov skip of {check_id} has no comment"
    cfn_lint = metadata.get("cfn-lint")
    config = cfn_lint.get("config") if isinstance(cfn_lint, dict) else None
    ignored = config.get("ignore_checks") if isinstance(config, dict) else None
    if ignored:
        yield "", "", f"cfn-lint ignore_checks {list(_as_list(ignored))} cannot carry a reason"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def select(
    findings: Iterable[Finding], checks: Sequence[str], skip_checks: Sequence[str]
) -> tuple[list[Finding], list[Skipped]]:
    """``--check`` (keep only these ids) and ``--skip-check`` (drop these), as patterns."""
    kept, skipped = [], []
    for finding in findings:
        if checks and not _matches(finding.check_id, checks):
            reason = "not among --check " + ",".join(checks)
            skipped.append(Skipped(finding, reason, "command line"))
        elif _matches(finding.check_id, skip_checks):
            skipped.append(Skipped(finding, "named by --skip-check", "command line"))
        else:
            kept.append(finding)
    return kept, skipped


def _matches(check_id: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(check_id, p) for p in patterns)
