"""Map a SageMaker image URI to the local implementation that stands in for that container.

The table lives in `data/algorithm_images.yaml`: which repositories and pinned tags are known,
and from which AWS-owned registry account each region serves them. Anything else (an unpinned
`:latest`, a digest, a look-alike account) is refused with a reason, as a job naming an image
SageMaker cannot pull fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.yaml_safe import safe_load

TABLE = Path(__file__).with_name("data") / "algorithm_images.yaml"

_IMAGE_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::(?P<tag>[\w.-]+))?(?:@(?P<digest>\S+))?$"
)


class UnsupportedImageError(ValueError):
    """The image is not one this runtime can run; the message says why."""


@dataclass(frozen=True)
class AlgorithmImage:
    """A recognised image: its repository, pinned tag and the local implementations."""

    uri: str
    repository: str
    tag: str
    training_module: str
    serving_format: str


@cache
def _repositories() -> dict[str, dict[str, Any]]:
    return safe_load(TABLE.read_text())["repositories"]


def registry_accounts(repository: str) -> dict[str, str]:
    """Region -> AWS-owned registry account publishing `repository`."""
    return dict(_repositories()[repository]["registries"])


def resolve_image(uri: str, region: str) -> AlgorithmImage:
    """The algorithm behind `uri` when run in `region`, or UnsupportedImageError."""
    match = _IMAGE_URI.match(uri)
    if match is None:
        raise UnsupportedImageError(f"image {uri!r} is not an Amazon ECR image URI")
    repository, tag = match["repository"], match["tag"]
    entry = _repositories().get(repository)
    if entry is None:
        known = ", ".join(sorted(_repositories()))
        raise UnsupportedImageError(
            f"image {uri!r}: repository {repository!r} is not a supported algorithm "
            f"(known: {known})"
        )
    if match["digest"] or tag not in entry["tags"]:
        pinned = ", ".join(entry["tags"])
        raise UnsupportedImageError(
            f"image {uri!r} is not a supported version of {repository}; use a pinned tag: {pinned}"
        )
    if match["region"] != region:
        raise UnsupportedImageError(
            f"image {uri!r} is in region {match['region']}, not the job's region {region}"
        )
    expected = entry["registries"].get(region)
    if match["account"] != expected:
        raise UnsupportedImageError(
            f"image {uri!r} is not from SageMaker's {repository} registry for {region}"
            + (f" (account {expected})" if expected else " (none published)")
        )
    return AlgorithmImage(
        uri=uri,
        repository=repository,
        tag=tag,
        training_module=entry["training"],
        serving_format=entry["serving"],
    )
