"""The schema cache: a process reads cfn-lint's resource schemas from a per-user file, so it
never imports cfnlint (~0.9 s of CPU) once the file exists, and answers as cfn-lint would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

from harness.cloudformation import schemas
from harness.cloudformation.providers import PROVIDERS

REPOSITORY = Path(__file__).resolve().parents[3]


def _clear() -> None:
    schemas._cfn_lint.cache_clear()
    schemas._schema_texts.cache_clear()
    schemas._schema.cache_clear()


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache folder for this test; the process's cached schemas are dropped around it."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(schemas.CACHE_DIR_VARIABLE, str(folder))
    _clear()
    yield folder
    _clear()


@pytest.fixture(scope="module")
def built() -> dict[str, str]:
    """What one real build gives (~0.5 s of CPU a build)."""
    return schemas._build()


@pytest.fixture
def builds(built: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """Builds made during the test, each answering what ``built`` holds: the tests of what
    surrounds a build (a corrupt file, an unwritable folder) count them instead of paying
    for each."""
    made: list[dict[str, str]] = []

    def build() -> dict[str, str]:
        made.append(dict(built))
        return made[-1]

    monkeypatch.setattr(schemas, "_build", build)
    return made


def _from_cfn_lint(type_name: str) -> dict | None:
    """The schema as cfn-lint gives it: the source the module read before the cache."""
    try:
        return PROVIDER_SCHEMA_MANAGER.get_resource_schema(schemas.SCHEMA_REGION, type_name).schema
    except ResourceNotFoundError:
        return None


SAMPLES: dict[str, dict[str, Any]] = {
    "AWS::S3::Bucket": {"BucketName": "x", "VersioningConfiguration": {"Status": "Enabled"}},
    "AWS::KMS::Key": {"EnableKeyRotation": "true", "PendingWindowInDays": "7"},
}


def _answers(type_name: str) -> dict[str, Any]:
    return {
        "is_known_type": schemas.is_known_type(type_name),
        "properties": schemas.properties(type_name),
        "read_only_properties": schemas.read_only_properties(type_name),
        "create_only_properties": schemas.create_only_properties(type_name),
        "required_properties": schemas.required_properties(type_name),
        "coerce": schemas.coerce(type_name, SAMPLES.get(type_name, {})),
    }


def _cfn_lint_answers(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], dict[str, Any]]:
    """The same functions reading each schema from cfn-lint, as the module did before."""

    def answers(type_name: str) -> dict[str, Any]:
        with monkeypatch.context() as patch:
            patch.setattr(schemas, "_schema", _from_cfn_lint)
            return _answers(type_name)

    return answers


def _assert_right_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from_cfn_lint = _cfn_lint_answers(monkeypatch)
    for type_name in [*PROVIDERS, "AWS::SNS::Topic", "AWS::Nope::Thing"]:
        assert _answers(type_name) == from_cfn_lint(type_name), type_name
    assert schemas.is_known_type("AWS::SNS::Topic")
    assert not schemas.is_known_type("AWS::Nope::Thing")
    assert schemas.create_only_properties("AWS::S3::Bucket") >= {"BucketName"}
    coerced = schemas.coerce("AWS::KMS::Key", SAMPLES["AWS::KMS::Key"])
    assert coerced == {"EnableKeyRotation": True, "PendingWindowInDays": 7}


def test_first_use_writes_the_cache_another_process_answers_from_without_cfnlint(
    cache_dir: Path,
) -> None:
    path = schemas.cache_path()
    assert path.parent == cache_dir
    assert version("cfn-lint") in path.name
    assert not path.exists()

    assert schemas.is_known_type("AWS::S3::Bucket")
    assert path.exists()
    assert "AWS::S3::Bucket" in json.loads(path.read_bytes())["schemas"]

    code = (
        "import json, sys\n"
        "from harness.cloudformation import schemas\n"
        "answers = [schemas.is_known_type('AWS::S3::Bucket'),\n"
        "           sorted(schemas.create_only_properties('AWS::S3::Bucket'))]\n"
        "assert 'cfnlint' not in sys.modules, 'cfnlint was imported'\n"
        "print(json.dumps(answers))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPOSITORY,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    expected = sorted(schemas._top_level(_from_cfn_lint("AWS::S3::Bucket")["createOnlyProperties"]))
    assert expected
    assert json.loads(result.stdout) == [True, expected]


def test_answers_from_the_cache_are_cfn_lints(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas.is_known_type("AWS::S3::Bucket")  # builds and writes the cache
    _clear()  # then answers from the file alone
    _assert_right_answers(monkeypatch)
    assert schemas.cache_path().exists()


@pytest.mark.parametrize("content", ["{", "[]", '{"cfn-lint": "0.0.0", "schemas": {}}'])
def test_a_corrupt_cache_is_rebuilt(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, content: str, builds: list[dict[str, str]]
) -> None:
    path = schemas.cache_path()
    cache_dir.mkdir()
    path.write_text(content)
    _assert_right_answers(monkeypatch)
    assert len(builds) == 1
    assert json.loads(path.read_bytes())["schemas"] == builds[0]


def _refused(*_args: object, **_kwargs: object) -> None:
    raise PermissionError("refused")


@pytest.mark.parametrize(
    "how", ["read-only folder", "folder under a file", "file creation refused", "rename refused"]
)
def test_an_unwritable_cache_folder_still_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, builds: list[dict[str, str]]
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    if how == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only folder (see the simulated cases)")
        folder.chmod(0o500)
    elif how == "folder under a file":
        folder = tmp_path / "file" / "cache"
        folder.parent.write_text("")
    elif how == "file creation refused":  # a read-only folder, also as root
        monkeypatch.setattr(schemas.tempfile, "mkstemp", _refused)
    else:
        monkeypatch.setattr(schemas.os, "replace", _refused)
    monkeypatch.setenv(schemas.CACHE_DIR_VARIABLE, str(folder))
    _clear()
    try:
        _assert_right_answers(monkeypatch)
    finally:
        _clear()
        if how == "read-only folder":
            folder.chmod(0o700)
    assert len(builds) == 1  # built once, then answered from memory
    if how != "folder under a file":
        assert list(folder.iterdir()) == []  # no cache file, no temporary file left behind


def test_missing_bundled_schemas_are_an_error_not_a_download(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfnlint.schema.manager import ProviderSchemaManager

    empty = ProviderSchemaManager(tmp_path / "providers", tmp_path / "resources")
    monkeypatch.setattr("cfnlint.schema.PROVIDER_SCHEMA_MANAGER", empty)
    with pytest.raises(RuntimeError, match="never downloads"):
        schemas.is_known_type("AWS::S3::Bucket")
    assert "update" not in vars(empty)  # cfn-lint's own method is back
