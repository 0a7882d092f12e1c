"""Template loading: :mod:`harness.template_text`'s decoder (YAML short tags and JSON) plus
the structural checks CloudFormation applies before it touches any resource."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.cloudformation.errors import ValidationError
from harness.cloudformation.intrinsics import FUNCTION_NAMES
from harness.cloudformation.schemas import is_known_type
from harness.template_text import TemplateSyntaxError, decode
from harness.templates import plain

Template = dict[str, Any]


def load_template(source: str | Mapping[str, Any]) -> Template:
    """Parse (if text) and check a template; raise `ValidationError` with AWS's wording."""
    if isinstance(source, str):
        try:
            decoded = decode(source, "TemplateBody")
        except TemplateSyntaxError as error:
            raise ValidationError(f"Template format error: {error.problem}") from error
        if decoded is None:
            raise ValidationError("Template format error: empty template")
        template = plain(decoded)
    else:
        template = plain(source)
    if not isinstance(template, dict):
        raise ValidationError("Template format error: the template must be a mapping")
    check_structure(template)
    return template


def check_structure(template: Template) -> None:
    """Reject what the local engine cannot honour rather than half-deploying it."""
    if "Transform" in template:
        raise ValidationError(
            f"Template format error: Transform {json.dumps(template['Transform'])} is not "
            "supported by the local CloudFormation engine; render the template first"
        )
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise ValidationError(
            "Template format error: At least one Resources member must be defined."
        )
    for name, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise ValidationError(
                f"Template format error: [/Resources/{name}] Every Resources object must "
                "contain a Type member."
            )
        if not isinstance(resource.get("Properties", {}), dict):
            raise ValidationError(f"Template format error: Properties of {name} must be a mapping")
    unknown = sorted({r["Type"] for r in resources.values() if not is_known_type(r["Type"])})
    if unknown:
        raise ValidationError(
            f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]"
        )
    for section in ("Parameters", "Mappings", "Conditions", "Outputs"):
        if not isinstance(template.get(section, {}), dict):
            raise ValidationError(f"Template format error: {section} must be a mapping")
    _check_functions(template, "")


def _check_functions(value: Any, path: str) -> None:
    """Every `Fn::` key must be a function the engine evaluates (Fn::Cidr, Fn::Transform and
    the language-extension functions are not)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("Fn::") and key not in FUNCTION_NAMES:
                raise ValidationError(
                    f"Template format error: {key} at {path or '/'} is not supported by the "
                    "local CloudFormation engine"
                )
            _check_functions(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_functions(item, f"{path}/{index}")
