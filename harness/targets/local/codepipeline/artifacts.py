"""The artifact store: zips in the pipeline's bucket under
``<pipeline name[:20]>/<artifact name[:10]>/<random id>``, put SSE-KMS under the store's key by
whoever runs the action (so that role's bucket and key permissions decide)."""

from __future__ import annotations

import io
import secrets
import string
import zipfile
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

from harness.targets.local.codepipeline.model import ArtifactLocation

_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class ArtifactStore:
    pipeline_name: str
    bucket: str
    key_id: str | None

    @classmethod
    def of(cls, declaration: dict[str, Any]) -> ArtifactStore:
        store = declaration["artifactStore"]
        key = store.get("encryptionKey") or {}
        return cls(declaration["name"], store["location"], key.get("id"))

    def location(self, artifact: str) -> ArtifactLocation:
        """A fresh key for one output artifact of one action execution."""
        random_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(7))
        key = f"{self.pipeline_name[:20]}/{artifact[:10]}/{random_id}"
        return ArtifactLocation(artifact, self.bucket, key)

    def write(self, s3: BaseClient, location: ArtifactLocation, files: dict[str, bytes]) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, content in sorted(files.items()):
                archive.writestr(path, content)
        extra = {"ServerSideEncryption": "aws:kms"}
        if self.key_id:
            extra["SSEKMSKeyId"] = self.key_id
        s3.put_object(Bucket=location.bucket, Key=location.key, Body=buffer.getvalue(), **extra)

    @staticmethod
    def read(s3: BaseClient, location: ArtifactLocation) -> dict[str, bytes]:
        body = s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read()
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
