"""Mutants of the training stack's encryption setting: the training job's
``OutputDataConfig.KmsKeyId`` removed from ``infra/pipeline/training-stack.yaml``.

Such a mutant is not a policy: it is applied by pushing a source bundle rendered with the
changed template (the pipeline deploys the training stack from the repository) and running
the pipeline, and undone by pushing the original bundle and running it again.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.mutate.mutants import Mutant
from harness.mutate.sites import Kind, Site
from harness.render import PIPELINE_DIR, TRAINING_TEMPLATE
from harness.templates import load_template

ENCRYPTION = ("OutputDataConfig", "KmsKeyId")  # where a training job names its output key


def _settings(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The paths of every output configuration that names a key."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == ENCRYPTION[0] and isinstance(value, dict) and ENCRYPTION[1] in value:
                yield (*path, key)
            yield from _settings(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _settings(value, (*path, str(index)))


def _at(node: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        node = node[int(step)] if isinstance(node, list) else node[step]
    return node


def training_mutants(directory: Path = PIPELINE_DIR) -> list[Mutant]:
    """One mutant per output configuration of the training stack that names a key."""
    path = directory / TRAINING_TEMPLATE
    template = load_template(path)
    site = Site(Kind.TRAINING, str(path), "", template)
    mutants = []
    for index, where in enumerate(_settings(template)):
        before = _at(template, where)
        after = {k: v for k, v in before.items() if k != ENCRYPTION[1]}
        document = copy.deepcopy(template)
        _at(document, where[:-1])[where[-1]] = after
        mutants.append(
            Mutant(site, index, ".".join(where), f"remove {ENCRYPTION[1]}", before, after, document)
        )
    return mutants


def mutated_source(mutant: Mutant, into: Path, directory: Path = PIPELINE_DIR) -> Path:
    """A copy of ``directory`` (the pipeline's source) with the mutated training template."""
    source = Path(shutil.copytree(directory, into / "pipeline"))
    (source / TRAINING_TEMPLATE).write_text(json.dumps(mutant.document, indent=2) + "\n")
    return source
