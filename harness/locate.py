"""Where in the account templates a statement that evidence cites was written.

Evidence names a statement by its policy as the target calls it (``key policy of <key ARN>``,
``resource policy of <bucket or object ARN>``, ``trust policy of <role ARN>``,
``policy 'NAME' of role ROLE``) and its Sid or index. The templates are resolved offline for
the deployment's accounts, prefix and region (as ``harness access-matrix`` resolves them), so
each policy-bearing resource has the names the deployment gave it; the statement's line comes
from cfn-lint's node tree of the file. Used by the SARIF of live runs, so code scanning points
at the line to change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.access import STACK_ACCOUNT, resolve_account_stacks
from harness.evidence import PolicyKind, StatementCited
from harness.evidence.computed import bucket_of, role_name
from harness.templates import decode_template, plain

_INLINE = re.compile(r"^policy '(?P<policy>.+)' of role (?P<role>.+)$")


@dataclass(frozen=True)
class SourceLine:
    file: Path
    line: int  # 1-based


@dataclass(frozen=True)
class _Written:
    """A policy document as written: its template and its node (which knows its line)."""

    file: Path
    node: Any


class StatementLocator:
    """Statements cited by evidence -> file and line in the templates a deployment used."""

    def __init__(
        self, templates: Mapping[str, Path], accounts: Mapping[str, str], prefix: str, region: str
    ) -> None:
        """``templates`` and ``accounts`` by account role (shared-services, training,
        production)."""
        nodes = {account: decode_template(path) for account, path in templates.items()}
        letters = {letter: accounts[account] for account, letter in STACK_ACCOUNT.items()}
        stacks = resolve_account_stacks(
            letters, prefix, region, {a: plain(n) for a, n in nodes.items()}
        )
        self._keys: dict[str, list[_Written]] = {}  # by account id
        self._buckets: dict[str, _Written] = {}  # by bucket name
        self._trust: dict[str, _Written] = {}  # by role ARN
        self._inline: dict[tuple[str, str], _Written] = {}  # by role name and policy name
        for account, stack in stacks.items():
            file, account_id = templates[account], accounts[account]
            for resource in stack.resources.values():
                written = nodes[account]["Resources"][resource.logical_id].get("Properties", {})
                self._index(file, account_id, resource, written)

    def _index(self, file: Path, account_id: str, resource: Any, written: Any) -> None:
        if resource.type == "AWS::KMS::Key":
            self._keys.setdefault(account_id, []).append(_Written(file, written["KeyPolicy"]))
        elif resource.type == "AWS::S3::BucketPolicy":
            bucket = resource.properties["Bucket"]
            self._buckets[bucket] = _Written(file, written["PolicyDocument"])
        elif resource.type == "AWS::IAM::Role":
            arn = resource.attributes["Arn"]
            self._trust[arn] = _Written(file, written["AssumeRolePolicyDocument"])
            for index, inline in enumerate(resource.properties.get("Policies", [])):
                document = written["Policies"][index]["PolicyDocument"]
                self._inline[role_name(arn), inline["PolicyName"]] = _Written(file, document)

    def _document(self, statement: StatementCited) -> _Written | None:
        named = statement.policy.split(" of ", 1)[-1]
        if statement.kind == PolicyKind.KEY:
            keys = self._keys.get(named.split(":")[4] if named.count(":") >= 5 else "", [])
            return keys[0] if len(keys) == 1 else None  # two keys in one account: ambiguous
        if statement.kind == PolicyKind.RESOURCE:
            return self._buckets.get(bucket_of(named))
        if statement.kind == PolicyKind.TRUST:
            return self._trust.get(named)
        inline = _INLINE.match(statement.policy)
        if statement.kind == PolicyKind.IDENTITY and inline:
            return self._inline.get((inline["role"], inline["policy"]))
        return None

    def locate(self, statement: StatementCited) -> SourceLine | None:
        """The line of the statement (or, if it is not found by Sid or index, of its policy
        document) in the template it was written in; None for a policy no template wrote
        (a deployer's, a canary's)."""
        written = self._document(statement)
        if written is None:
            return None
        found = _statement_node(written.node, statement.sid)
        node = written.node if found is None else found
        return SourceLine(written.file, node.start_mark.line + 1)


def _statement_node(document: Any, sid: str | int) -> Any:
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        return None
    if isinstance(sid, int):
        return statements[sid] if 0 <= sid < len(statements) else None
    return next((s for s in statements if isinstance(s, dict) and s.get("Sid") == sid), None)
