"""Shared shape of the CKV_XACCT checks: id, severity, remediation and where it failed.

checkov's CloudFormation runner drops a check's ``details`` from its reports but keeps
``evaluated_keys``, so a failing check records there *where* it failed (property path and
offending value); the gate prints them next to the remediation text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.bridgecrew.severities import BcSeverities, Severities
from checkov.common.models.enums import CheckCategories, CheckResult

from harness.gate.cfn_values import strip_markers


class XacctCheck(BaseResourceCheck):
    """A check that lists problems in one resource; any problem fails it."""

    def __init__(
        self,
        *,
        id: str,
        name: str,
        resources: Iterable[str],
        fix: str,
        category: CheckCategories,
        severity: str = BcSeverities.HIGH,
    ) -> None:
        super().__init__(
            name=name,
            id=id,
            categories=[category],
            supported_resources=list(resources),
            guideline=fix,
        )
        self.severity = Severities[severity]

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
