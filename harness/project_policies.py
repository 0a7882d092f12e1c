"""Where the project's policy files are: custom checks, the skip list and the allow-list.

They are edited in the checkout's ``policies/`` and ship inside the package as
``harness.policies`` (setup.py maps that package onto ``policies/``). An installed harness
reads its shipped copy, one run from a checkout (source tree or editable install) reads
``policies/`` itself; so the gate runs from any folder and the repo stays the place to edit.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def policies_dir() -> Path:
    """``harness/policies`` of an installed package, else the checkout's ``policies/``."""
    shipped = _PACKAGE / "policies"
    return shipped if shipped.is_dir() else _PACKAGE.parent / "policies"


def allowlist_file() -> Path:
    """The expected access allow-list (who may use the key, bucket and roles)."""
    return policies_dir() / "access" / "allowlist.yaml"
