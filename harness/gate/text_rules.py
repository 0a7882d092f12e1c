"""Rules on plain text and on CodePipeline definitions, shared by checkov checks and the gate.

They are plain functions so the gate can apply them to documents checkov does not read
(``pipeline.json``, the CreatePipeline input) as well as to template resources.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from harness.gate.cfn_values import as_list, render, strings

# Hand-edit markers such as <ACCOUNT_ID> or <your-bucket>: angle brackets around one word.
# Prose (a Comment saying "named Prefix-<action id>") has spaces and is left alone.
_PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z0-9_.-]{0,40}>")
_ALIAS = re.compile(r"(^|:)alias/")


def placeholders(value: Any) -> list[str]:
    """Hand-edit placeholders left anywhere in a value."""
    return [m.group(0) for text in strings(value) for m in _PLACEHOLDER.finditer(text)]


def is_unpinned_image(image: str) -> bool:
    """True for an image at ``:latest`` or with no tag and no digest.

    Parts only known at deploy time (``${Tag}``, a whole ``${ImageUri}``) pass: the gate
    cannot see them, and deploy fills them from pinned values.
    """
    if "@sha256:" in image:
        return False
    name, _, tag = image.rsplit("/", 1)[-1].partition(":")
    if "${" in tag or (not tag and "${" in name):
        return False
    return tag in ("", "latest")


def is_alias_key(key_id: str) -> bool:
    """True for ``alias/name`` and alias ARNs, which do not resolve across accounts."""
    return bool(_ALIAS.search(key_id))


def artifact_key_ids(pipeline: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, key id)`` of every artifact store encryption key of a pipeline.

    Accepts both spellings: CloudFormation's ``ArtifactStore``/``ArtifactStores`` and the
    CodePipeline API's ``artifactStore``/``artifactStores`` (a list, or a region map).
    """
    for single, many in (("ArtifactStore", "ArtifactStores"), ("artifactStore", "artifactStores")):
        if isinstance(pipeline.get(single), dict):
            yield from _store_key(single, pipeline[single])
        stores = pipeline.get(many)
        entries = stores.items() if isinstance(stores, dict) else enumerate(as_list(stores))
        for index, store in entries:
            if isinstance(store, dict):
                inner = store.get("ArtifactStore", store)
                yield from _store_key(f"{many}[{index}]", inner)


def _store_key(where: str, store: dict[str, Any]) -> Iterator[tuple[str, str]]:
    key = store.get("EncryptionKey", store.get("encryptionKey"))
    if isinstance(key, dict):
        key_id = key.get("Id", key.get("id"))
        if key_id is not None:
            yield f"{where}.EncryptionKey.Id", render(key_id)


def alias_artifact_keys(pipeline: dict[str, Any]) -> list[str]:
    """Artifact store keys given as KMS aliases, as ``where: key id`` lines.

    ``pipeline`` is the CloudFormation ``Properties`` of an AWS::CodePipeline::Pipeline or
    the ``pipeline`` object of a CreatePipeline/UpdatePipeline input.
    """
    return [f"{where}: {key}" for where, key in artifact_key_ids(pipeline) if is_alias_key(key)]
