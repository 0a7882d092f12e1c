"""The allow-list file: where it is, and how it is read with its placeholders bound.

Kept apart from :mod:`harness.access` (which renders the infra and computes the matrix) so the
input checks of every command can load it without the renderer."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from harness.policy.access_matrix import Allowlist, parse_allowlist
from harness.policy.errors import PolicyError
from harness.project_policies import allowlist_file
from harness.yaml_safe import safe_load

ALLOWLIST = allowlist_file()


def allowlist_path() -> Path:
    """The allow-list in force: ``HARNESS_ALLOWLIST`` (the config file's ``allowlist``) or
    the project's own."""
    return Path(os.environ.get("HARNESS_ALLOWLIST") or ALLOWLIST)


DEFAULT_ACCOUNTS = {"A": "111111111111", "B": "222222222222", "C": "333333333333"}
DEFAULT_OUTSIDER = "777788889999"
DEPLOYER_ROLE = "harness-deployer"  # the deployer the rendered stacks are resolved for
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def load_allowlist(
    path: str | Path, accounts: Mapping[str, str], prefix: str = "mlops"
) -> Allowlist:
    """Read the allow-list, binding ``${Prefix}`` and the placeholders ``accounts`` names
    (``A``, ``B``, ``C``, ``Outsider``, ``DeployerA``, ...); an unbound one is an error."""
    path = Path(path)
    values = {**accounts, "Prefix": prefix}

    def bind(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in values:
            raise PolicyError(f"{path}: unbound placeholder ${{{name}}}")
        return values[name]

    return parse_allowlist(safe_load(_PLACEHOLDER.sub(bind, path.read_text())), str(path))


def static_bindings(accounts: Mapping[str, str]) -> dict[str, str]:
    """The allow-list's placeholders for rendered infra: the accounts, an outsider account and
    each account's deployer role as the local target names it."""
    deployers = {
        f"Deployer{k}": f"arn:aws:iam::{v}:role/{DEPLOYER_ROLE}" for k, v in accounts.items()
    }
    return {**accounts, "Outsider": DEFAULT_OUTSIDER, **deployers}
