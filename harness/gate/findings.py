"""One gate finding: which file and resource break which check, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

from harness.rules import Rule


@dataclass(frozen=True)
class Finding:
    """A problem reported by one of the gate's tools (``cfn-lint``, ``checkov``, ``gate``)."""

    tool: str
    file: str
    resource: str
    check_id: str
    title: str
    detail: str
    fix: str
    severity: str = "HIGH"
    line: int | None = None

    @classmethod
    def of(cls, rule: Rule, file: str, resource: str, detail: str, line: int | None) -> Finding:
        """A finding of one of the gate's own rules, worded by its metadata."""
        return cls(
            "gate", file, resource, rule.id, rule.title, detail, rule.fix, rule.severity, line
        )

    def line_text(self) -> str:
        """The one line printed for this finding."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.resource}: {self.check_id} {self.message} -- fix: {self.fix}"

    @property
    def message(self) -> str:
        """What is wrong: the check's title, then where and with which value."""
        return f"{self.title} ({self.detail})" if self.detail else self.title
