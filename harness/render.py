"""Wire stack outputs into the pipeline and training-stack definitions.

The public original asked people to hand-edit ``<placeholders>``; here every value comes from
a deployed stack's outputs. ``infra/pipeline/*.json`` hold ``${Name}`` tokens, where each Name
is a field of :class:`Wiring`; CodePipeline's own ``#{Namespace.Variable}`` references are left
for CodePipeline. Rendering fails, naming the file and the stack output, if any value is
missing, malformed, or left unresolved, so nothing half-wired can be deployed.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from botocore.validate import ParamValidator

from harness import service_models
from harness.templates import load_template

PIPELINE_DIR = Path(__file__).resolve().parent.parent / "infra" / "pipeline"
TRAINING_TEMPLATE = "training-stack.yaml"
TRAINING_CONFIG = "training-stack.config.json"
TOKEN = re.compile(r"\$\{([^}]*)\}")
HAND_PLACEHOLDER = re.compile(r"<[A-Za-z_ -]+>")

# Value kinds: the pattern each must match, and what to tell the user when it does not.
KINDS: dict[str, tuple[re.Pattern[str], str]] = {
    "prefix": (re.compile(r"^[a-z][a-z0-9-]{1,19}$"), "a lower-case name prefix"),
    "region": (re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$"), "an AWS region such as us-east-1"),
    "bucket": (re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"), "an S3 bucket name"),
    "key-arn": (
        re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$"),
        "a KMS key ARN (an alias ARN does not work across accounts)",
    ),
    "role-arn": (
        re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"),
        "an IAM role ARN",
    ),
    "name": (re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,139}$"), "a resource name"),
}


class RenderError(ValueError):
    """A definition could not be wired; the message names the file and the missing value."""


@dataclass(frozen=True)
class Source:
    """Where a wiring value comes from: a stack's output, or the run's settings."""

    stack: str
    output: str
    kind: str


# One row per value the definitions may use. Stacks: "settings" (the run's own inputs),
# "shared-services" (A), "training" (B), "production" (C).
SOURCES: dict[str, Source] = {
    "Prefix": Source("settings", "Prefix", "prefix"),
    "Region": Source("settings", "Region", "region"),
    "ArtifactBucketName": Source("shared-services", "ArtifactBucketName", "bucket"),
    "ArtifactKeyArn": Source("shared-services", "ArtifactKeyArn", "key-arn"),
    "PipelineRoleArn": Source("shared-services", "PipelineRoleArn", "role-arn"),
    "RepositoryName": Source("shared-services", "RepositoryName", "name"),
    "TrainingPipelineActionRoleArn": Source("training", "PipelineActionRoleArn", "role-arn"),
    "TrainingCloudFormationRoleArn": Source("training", "CloudFormationRoleArn", "role-arn"),
    "StateMachineRoleArn": Source("training", "StateMachineRoleArn", "role-arn"),
    "SageMakerTrainingRoleArn": Source("training", "SageMakerTrainingRoleArn", "role-arn"),
    "TrainingStackName": Source("training", "TrainingStackName", "name"),
    "ProductionPipelineActionRoleArn": Source("production", "PipelineActionRoleArn", "role-arn"),
    "DeployFunctionName": Source("production", "DeployFunctionName", "name"),
}


@dataclass(frozen=True)
class Wiring:
    """Every value the pipeline and training-stack definitions are wired with, validated."""

    Prefix: str
    Region: str
    ArtifactBucketName: str
    ArtifactKeyArn: str
    PipelineRoleArn: str
    RepositoryName: str
    TrainingPipelineActionRoleArn: str
    TrainingCloudFormationRoleArn: str
    StateMachineRoleArn: str
    SageMakerTrainingRoleArn: str
    TrainingStackName: str
    ProductionPipelineActionRoleArn: str
    DeployFunctionName: str

    def __post_init__(self) -> None:
        for f in fields(self):
            source = SOURCES[f.name]
            pattern, meaning = KINDS[source.kind]
            value = getattr(self, f.name)
            if not isinstance(value, str) or not pattern.match(value):
                raise RenderError(
                    f"{_origin(source)} = {value!r} is not {meaning} (needed for ${{{f.name}}})"
                )

    @classmethod
    def from_outputs(
        cls, settings: Mapping[str, str], outputs: Mapping[str, Mapping[str, str]]
    ) -> Wiring:
        """Collect the values from the run settings and each stack's outputs.

        ``outputs`` maps stack role ("shared-services", "training", "production") to that
        stack's outputs as returned by DescribeStacks (OutputKey -> OutputValue).
        """
        stacks = {"settings": settings, **outputs}
        values = {}
        for name, source in SOURCES.items():
            stack = stacks.get(source.stack)
            if stack is None:
                raise RenderError(f"no outputs for stack '{source.stack}' (needed for ${{{name}}})")
            if source.output not in stack:
                raise RenderError(f"{_origin(source)} is missing (needed for ${{{name}}})")
            values[name] = stack[source.output]
        return cls(**values)


def _origin(source: Source) -> str:
    if source.stack == "settings":
        return f"setting {source.output}"
    return f"output {source.output} of stack '{source.stack}'"


def render(document: Any, wiring: Wiring, origin: str) -> Any:
    """Return ``document`` with every ``${Name}`` token replaced by its wiring value."""
    values = {f.name: getattr(wiring, f.name) for f in fields(wiring)}

    def fill(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {k: fill(v, f"{path}.{k}") for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if not isinstance(node, str):
            return node

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise RenderError(
                    f"{origin}: {path}: ${{{name}}} is not a wiring value; "
                    f"known values: {', '.join(sorted(values))}"
                )
            return values[name]

        filled = TOKEN.sub(substitute, node)
        if HAND_PLACEHOLDER.search(filled):
            raise RenderError(f"{origin}: {path}: hand-edit placeholder left in {filled!r}")
        return filled

    return fill(document, "$")


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise RenderError(f"{path}: cannot read JSON: {exc}") from exc


def render_pipeline(wiring: Wiring, directory: Path = PIPELINE_DIR) -> dict[str, Any]:
    """Render ``pipeline.json`` into CreatePipeline input, checked against botocore's model."""
    path = directory / "pipeline.json"
    request = render(_load_json(path), wiring, str(path))
    model = service_models.service_model("codepipeline")
    report = ParamValidator().validate(request, model.operation_model("CreatePipeline").input_shape)
    if report.has_errors():
        raise RenderError(f"{path}: not valid CreatePipeline input:\n{report.generate_report()}")
    return request


def render_training_config(wiring: Wiring, directory: Path = PIPELINE_DIR) -> dict[str, Any]:
    """Render the training stack's template configuration and check it fits the template.

    Every template parameter without a default must get a value, no unknown parameter may be
    passed, and each value must satisfy the parameter's AllowedPattern / AllowedValues, so a
    mistake fails here rather than in the pipeline's deploy stage.
    """
    path = directory / TRAINING_CONFIG
    config = render(_load_json(path), wiring, str(path))
    template_path = directory / TRAINING_TEMPLATE
    declared = load_template(template_path).get("Parameters", {})
    given = config.get("Parameters", {})
    for name in given:
        if name not in declared:
            raise RenderError(f"{path}: parameter {name} is not declared in {template_path}")
    for name, spec in declared.items():
        if name not in given:
            if "Default" not in spec:
                raise RenderError(f"{path}: no value for parameter {name} of {template_path}")
            continue
        value = given[name]
        pattern = spec.get("AllowedPattern")
        if pattern and not re.fullmatch(pattern, value):
            raise RenderError(f"{path}: parameter {name}={value!r} does not match {pattern}")
        allowed = spec.get("AllowedValues")
        if allowed and value not in allowed:
            raise RenderError(f"{path}: parameter {name}={value!r} is not one of {allowed}")
    return config


SOURCE_FILES = (TRAINING_TEMPLATE, "training-input.json")


def render_source_bundle(wiring: Wiring, dest: Path, directory: Path = PIPELINE_DIR) -> list[Path]:
    """Write the files the source repository's ``main`` holds for the pipeline to run."""
    dest.mkdir(parents=True, exist_ok=True)
    config = render_training_config(wiring, directory)
    written = [dest / TRAINING_CONFIG]
    written[0].write_text(json.dumps(config, indent=2) + "\n")
    for name in SOURCE_FILES:
        written.append(Path(shutil.copyfile(directory / name, dest / name)))
    return written
