"""Static policy gate for the pipeline's CloudFormation templates (``harness gate``).

The gate itself (cfn-lint, checkov, the proof's checks) is imported when first named here,
not with the package: the run's SARIF report only needs :class:`Finding`, and importing the
gate cost ``harness run`` a second before its clock started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.gate.findings import Finding
from harness.gate.text_rules import alias_artifact_keys, placeholders

if TYPE_CHECKING:
    from harness.gate.gate import GateResult, main, run_gate

__all__ = ["Finding", "GateResult", "alias_artifact_keys", "main", "placeholders", "run_gate"]

_FROM_GATE = {"GateResult", "main", "run_gate"}


def __getattr__(name: str) -> Any:
    if name in _FROM_GATE:
        from harness.gate import gate

        return getattr(gate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
