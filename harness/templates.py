"""Loading and packaging the CloudFormation templates in ``infra/``.

Templates use the short YAML tags (``!Sub``, ``!GetAtt``...) that plain YAML loaders reject;
:mod:`harness.template_text` reads them as CloudFormation does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.template_text import TemplateSyntaxError, decode_file

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "infra" / "templates"

# The three account stacks, in deployment order: A's key and bucket must exist before B and C
# can be given their ARNs.
ACCOUNT_TEMPLATES = {
    "shared-services": TEMPLATES_DIR / "shared-services.yaml",
    "training": TEMPLATES_DIR / "training.yaml",
    "production": TEMPLATES_DIR / "production.yaml",
}


class TemplateError(ValueError):
    """A template cannot be read or packaged; the message names the file."""


def load_template(path: Path) -> dict[str, Any]:
    """Decode a YAML or JSON CloudFormation template into plain dicts and lists."""
    return plain(decode_template(path))


def decode_template(path: Path) -> Any:
    """The template's node tree: dicts and lists that know their line (``start_mark.line``,
    0-based), for reports that point into the file."""
    try:
        template = decode_file(path)
    except TemplateSyntaxError as error:
        raise TemplateError(f"{path}: cannot decode: {error.problem}") from error
    if template is None:
        raise TemplateError(f"{path}: cannot decode: empty template")
    return template


def plain(node: Any) -> Any:
    """Turn decoded node subclasses into builtin dicts, lists and strings."""
    if isinstance(node, Mapping):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def package(template: dict[str, Any], path: Path) -> dict[str, Any]:
    """Return a copy of ``template`` with each function's ``inline-code`` file inlined.

    A function resource may carry ``Metadata: {harness: {inline-code: <file>}}`` (relative to
    the template); its ``Code`` becomes ``{ZipFile: <file contents>}``, which CloudFormation
    stores as ``index.py``. Keeping the source in its own file lets it be linted and unit
    tested, while the deployed stack needs no code bucket.
    """
    packaged = copy.deepcopy(template)
    for name, resource in packaged.get("Resources", {}).items():
        source = resource.get("Metadata", {}).get("harness", {}).get("inline-code")
        if source is None:
            continue
        code_path = (path.parent / source).resolve()
        try:
            code = code_path.read_text()
        except OSError as exc:
            raise TemplateError(f"{path}: resource {name}: inline-code {source}: {exc}") from exc
        resource.setdefault("Properties", {})["Code"] = {"ZipFile": code}
    return packaged
