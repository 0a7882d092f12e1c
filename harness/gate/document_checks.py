"""Checks the gate runs itself, on what checkov's resource checks cannot see.

checkov shows a resource check one resource with ``!Ref`` already replaced by parameter
defaults, so it can neither read Parameters nor tell a hard-coded account id from a
parameter's default; and it does not read pipeline.json at all. These checks read the raw
document instead. Their ids continue the CKV_XACCT series (see policies/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from harness.gate.cfn_values import strings
from harness.gate.findings import Finding
from harness.gate.sources import Document
from harness.gate.text_rules import alias_artifact_keys, placeholders
from harness.rules import Rule, gate_rules

_RULES = gate_rules()  # metadata: document_checks.toml beside this file, and the checkov checks'
HARDCODED_ACCOUNT = _RULES["CKV_XACCT_013"]
ACCOUNT_PARAMETER_PATTERN = _RULES["CKV_XACCT_018"]
PIPELINE_ALIAS_KEY = _RULES["CKV_XACCT_015"]  # checkov's check does it in templates
PIPELINE_PLACEHOLDER = _RULES["CKV_XACCT_019"]  # likewise
RULES = (HARDCODED_ACCOUNT, ACCOUNT_PARAMETER_PATTERN, PIPELINE_ALIAS_KEY, PIPELINE_PLACEHOLDER)

_ACCOUNT_ID = re.compile(r"(?<![\d.])\d{12}(?!\d)")
# AWS's own registries of SageMaker images name AWS's account, not one of ours.
_ECR_REGISTRY = re.compile(r"\d{12}\.dkr\.ecr\.")
_GOOD_IDS = ("123456789012", "000000000000")
_BAD_IDS = ("12345678901", "1234567890123", "12345678901a", "", "123456789012,1")


def check(document: Document) -> list[Finding]:
    """Findings of the gate's own checks for one parsed document."""
    if document.kind == "template":
        return [*_hardcoded_accounts(document), *_account_parameters(document)]
    if document.kind == "pipeline":
        return list(_pipeline(document))
    return []


def _finding(document: Document, rule: Rule, resource: str, detail: str, node: Any) -> Finding:
    mark = getattr(node, "start_mark", None)
    return Finding.of(rule, str(document.path), resource, detail, mark.line + 1 if mark else None)


def _hardcoded_accounts(document: Document) -> Iterator[Finding]:
    for name, resource in document.content["Resources"].items():
        if not isinstance(resource, dict):
            continue
        for text in strings(resource.get("Properties", {})):
            masked = _ECR_REGISTRY.sub("", text)
            for account in sorted(set(_ACCOUNT_ID.findall(masked))):
                yield _finding(document, HARDCODED_ACCOUNT, name, account, resource)


def _account_parameters(document: Document) -> Iterator[Finding]:
    parameters = document.content.get("Parameters") or {}
    for name, spec in parameters.items():
        if "account" in name.lower() and isinstance(spec, dict) and not pins_account_id(spec):
            pattern = spec.get("AllowedPattern")
            detail = f"AllowedPattern {pattern!r}" if pattern else "no AllowedPattern"
            yield _finding(document, ACCOUNT_PARAMETER_PATTERN, f"Parameters.{name}", detail, spec)


def pins_account_id(parameter: dict[str, Any]) -> bool:
    """True when a parameter only admits 12-digit ids (by AllowedPattern or AllowedValues).

    CloudFormation matches AllowedPattern against the whole value, so the pattern is tried
    with fullmatch on known good and bad samples rather than parsed.
    """
    values = parameter.get("AllowedValues")
    if isinstance(values, list) and values:
        return all(re.fullmatch(r"\d{12}", str(v)) for v in values)
    pattern = parameter.get("AllowedPattern")
    if not isinstance(pattern, str):
        return False
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return all(compiled.fullmatch(s) for s in _GOOD_IDS) and not any(
        compiled.fullmatch(s) for s in _BAD_IDS
    )


def _pipeline(document: Document) -> Iterator[Finding]:
    pipeline = document.content["pipeline"]
    name = str(pipeline.get("name", "pipeline"))
    for detail in alias_artifact_keys(pipeline):
        yield _finding(document, PIPELINE_ALIAS_KEY, name, detail, pipeline)
    for text in sorted(set(placeholders(document.content))):
        yield _finding(document, PIPELINE_PLACEHOLDER, name, text, pipeline)
