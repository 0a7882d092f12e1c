"""Dependencies point one way (DESIGN.md section 6): these imports would turn an arrow back up
or pull in what a layer must not need."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "harness"

FORBIDDEN = [
    # capabilities lists the targets from their registry, below the deploy layer
    ("targets/capabilities.py", "harness.deploy"),
    # a target does not read the project's templates (deploy hands it what to deploy)
    ("targets/localstack", "harness.templates"),
    ("targets/aws", "cfnlint"),
    ("targets/aws", "moto"),
    # the policy engine is pure: no file I/O (the allow-list is read by harness.access)
    ("policy/access_matrix.py", "yaml"),
    ("policy", "pathlib"),
    ("policy", "harness.access"),
]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("where", "module"), FORBIDDEN, ids=[f"{w}-{m}" for w, m in FORBIDDEN])
def test_no_import_against_the_layers(where: str, module: str) -> None:
    place = HARNESS / where
    files = sorted(place.rglob("*.py")) if place.is_dir() else [place]
    assert files
    offending = [
        f"{path.relative_to(HARNESS)} imports {name}"
        for path in files
        for name in _imports(path)
        if name == module or name.startswith(module + ".")
    ]
    assert offending == []


def _runs_clean(blocked: tuple[str, ...], code: str) -> None:
    """``code`` runs in a fresh interpreter where the ``blocked`` modules cannot be imported."""
    prelude = f"import sys\nfor name in {blocked!r}: sys.modules[name] = None\n"
    completed = subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr


def test_the_aws_target_runs_without_cfn_lint() -> None:
    """Not even indirectly: cfn-lint is the gate's and the local target's, not a runtime need."""
    _runs_clean(
        ("cfnlint",),
        "from harness.targets.aws import AwsTarget\n"
        "from harness.targets.capabilities import registered_targets\n"
        "assert registered_targets(['aws'])['aws'] is AwsTarget\n"
        "assert not any(m.startswith('harness.deploy') for m in sys.modules)\n",
    )


def test_the_local_run_imports_no_cfn_lint() -> None:
    """cfn-lint is the gate's linter: importing it costs ~0.9 s of CPU, which every process
    of a run would pay (templates are decoded by harness.template_text, resource schemas read
    from their cache)."""
    _runs_clean(
        ("cfnlint",),
        "import harness.cli, harness.deploy, harness.cloudformation, harness.locate\n"
        "import harness.pytest_plugin, harness.prove.proofs\n"
        "from harness.targets.local import LocalTarget\n",
    )


def test_the_harness_command_starts_without_the_test_extra() -> None:
    """The gate's env installs the package without the `test` extra (moto, cheroot,
    cryptography): `harness gate` must start there, so no command imports the local target at
    module level."""
    _runs_clean(
        ("moto", "cheroot", "cryptography", "OpenSSL"),
        "import harness.cli\n"
        "assert not any(m.startswith('harness.targets.local') for m in sys.modules)\n",
    )
