"""Shared shape of the CKV_XACCT checks: their metadata, and where a resource failed one.

A check's id, title, severity and remediation are data in the ``.toml`` file beside its module
(harness/rules.py reads them for ``harness rules`` and the reports, without checkov).

checkov's CloudFormation runner drops a check's ``details`` from its reports but keeps
``evaluated_keys``, so a failing check records there *where* it failed (property path and
offending value); the gate prints them next to the remediation text.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.bridgecrew.severities import Severities
from checkov.common.models.enums import CheckCategories, CheckResult

from harness.gate.cfn_values import strip_markers
from harness.rules import RuleError, load_file


class XacctCheck(BaseResourceCheck):
    """A check that lists problems in one resource; any problem fails it."""

    def __init__(self, *, resources: Iterable[str], category: CheckCategories) -> None:
        metadata = Path(inspect.getfile(type(self))).with_suffix(".toml")
        rules = load_file(metadata, "gate")
        if len(rules) != 1:
            raise RuleError(f"{metadata}: a check's file holds exactly one rule")
        self.rule = rules[0]
        super().__init__(
            name=self.rule.title,
            id=self.rule.id,
            categories=[category],
            supported_resources=list(resources),
            guideline=self.rule.fix,
        )
        self.severity = Severities[self.rule.severity]

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        properties = strip_markers(conf.get("Properties") or {})
        if not isinstance(properties, dict):
            return CheckResult.UNKNOWN
        found = list(self.problems(self.entity_type, properties))
        self.evaluated_keys = found
        return CheckResult.FAILED if found else CheckResult.PASSED

    def problems(self, resource_type: str, properties: dict[str, Any]) -> Iterable[str]:
        """Where the resource breaks the rule, one ``path: value`` line per problem."""
        raise NotImplementedError
