"""Static policy gate for the pipeline's CloudFormation templates (``harness gate``)."""

from harness.gate.findings import Finding
from harness.gate.gate import GateResult, main, run_gate
from harness.gate.text_rules import alias_artifact_keys, placeholders

__all__ = ["Finding", "GateResult", "alias_artifact_keys", "main", "placeholders", "run_gate"]
