"""AWS::Lambda::Function: inline (`Code.ZipFile`) or S3 code, configuration and tags.
Only created and configured here; running it is the Lambda runner's job (moto would try
Docker on invoke)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from harness.cloudformation.providers.base import (
    Created,
    Naming,
    Properties,
    Provider,
    ProviderContext,
    retag,
    tag_map,
    tolerating,
)

_CONFIGURATION = ("Handler", "Runtime", "Role", "Description", "Timeout", "MemorySize")


def inline_zip(source: str, runtime: str) -> bytes:
    """CloudFormation packs `ZipFile` source as `index.py` (Python) or `index.js` (Node.js)."""
    filename = "index.py" if runtime.startswith("python") else "index.js"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(filename, source)
    return buffer.getvalue()


def _code(properties: Properties) -> dict[str, Any]:
    code = properties["Code"]
    if "ZipFile" in code:
        return {"ZipFile": inline_zip(code["ZipFile"], properties.get("Runtime", ""))}
    return {k: code[k] for k in ("S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri") if k in code}


def _configuration(properties: Properties) -> dict[str, Any]:
    request: dict[str, Any] = {k: properties[k] for k in _CONFIGURATION if k in properties}
    for number in ("Timeout", "MemorySize"):
        if number in request:
            request[number] = int(request[number])
    if "Environment" in properties:
        request["Environment"] = {"Variables": properties["Environment"].get("Variables", {})}
    return request


class FunctionProvider(Provider):
    type_name = "AWS::Lambda::Function"
    supported = frozenset(
        {
            "FunctionName",
            "Code",
            "Environment",
            "Tags",
            "ReservedConcurrentExecutions",
            *_CONFIGURATION,
        }
    )

    def physical_id(self, naming: Naming, properties: Properties) -> str:
        return properties.get("FunctionName") or naming.generated_name(64)

    def attributes(
        self, naming: Naming, physical_id: str, properties: Properties
    ) -> dict[str, Any]:
        return {"Arn": naming.arn("lambda", f"function:{physical_id}")}

    def create(self, ctx: ProviderContext, properties: Properties) -> Created:
        name = self.physical_id(ctx, properties)
        request = {"FunctionName": name, "Code": _code(properties), **_configuration(properties)}
        if properties.get("Tags"):
            request["Tags"] = tag_map(properties["Tags"])
        function = ctx.client("lambda").create_function(**request)
        self._set_concurrency(ctx, name, {}, properties)
        return Created(name, {"Arn": function["FunctionArn"]})

    def update(
        self, ctx: ProviderContext, physical_id: str, old: Properties, new: Properties
    ) -> dict[str, Any]:
        lam = ctx.client("lambda")
        if _configuration(old) != _configuration(new):
            request = _configuration(new)
            if "Environment" in old and "Environment" not in new:
                request["Environment"] = {"Variables": {}}
            lam.update_function_configuration(FunctionName=physical_id, **request)
        if old.get("Code") != new.get("Code"):
            lam.update_function_code(FunctionName=physical_id, **_code(new))
        self._set_concurrency(ctx, physical_id, old, new)
        arn = lam.get_function(FunctionName=physical_id)["Configuration"]["FunctionArn"]
        retag(
            old,
            new,
            untag=lambda keys: lam.untag_resource(Resource=arn, TagKeys=keys),
            tag=lambda tags: lam.tag_resource(Resource=arn, Tags=tag_map(tags)),
        )
        return {"Arn": arn}

    def delete(self, ctx: ProviderContext, physical_id: str, properties: Properties) -> None:
        with tolerating("ResourceNotFoundException"):
            ctx.client("lambda").delete_function(FunctionName=physical_id)

    @staticmethod
    def _set_concurrency(ctx: ProviderContext, name: str, old: Properties, new: Properties) -> None:
        """Reserve (or release) concurrency when `ReservedConcurrentExecutions` changes."""
        wanted = new.get("ReservedConcurrentExecutions")
        if wanted == old.get("ReservedConcurrentExecutions"):
            return
        lam = ctx.client("lambda")
        if wanted is None:
            lam.delete_function_concurrency(FunctionName=name)
        else:
            lam.put_function_concurrency(
                FunctionName=name, ReservedConcurrentExecutions=int(wanted)
            )


PROVIDER = FunctionProvider()
