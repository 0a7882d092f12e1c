"""Resource dependencies (explicit `DependsOn` and implicit Ref/GetAtt/Sub) and the order
CloudFormation creates resources in, with its cycle error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from harness.cloudformation.errors import ValidationError
from harness.cloudformation.intrinsics import sub_references


def _targets(value: Any) -> Iterator[tuple[str, str | None]]:
    """(name, attribute or None) for each Ref, GetAtt and Sub variable in `value`."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and isinstance(argument, str):
                yield argument, None
                return
            if key == "Fn::GetAtt":
                parts = argument.split(".", 1) if isinstance(argument, str) else argument
                if isinstance(parts, list) and len(parts) == 2 and isinstance(parts[0], str):
                    yield parts[0], parts[1] if isinstance(parts[1], str) else None
                return
            if key == "Fn::Sub":
                text, local = argument if isinstance(argument, list) else [argument, {}]
                yield from _targets(local)
                if isinstance(text, str):
                    for name in sub_references(text):
                        if name not in local:
                            target, _, attribute = name.partition(".")
                            yield target, attribute or None
                return
        for item in value.values():
            yield from _targets(item)
    elif isinstance(value, list):
        for item in value:
            yield from _targets(item)


def references(value: Any) -> set[str]:
    """Names a value refers to through Ref, GetAtt or Sub (resources, parameters, pseudo)."""
    return {name for name, _ in _targets(value)}


def attribute_references(value: Any) -> set[tuple[str, str]]:
    """(resource, attribute) pairs a value reads through GetAtt or `${Resource.Attribute}`."""
    return {(name, attribute) for name, attribute in _targets(value) if attribute}


def dependencies(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, set[str]]:
    """For each resource, the resources (of `resources`) it must wait for."""
    graph = {}
    for name, resource in resources.items():
        explicit = resource.get("DependsOn", [])
        explicit = [explicit] if isinstance(explicit, str) else list(explicit)
        unknown = sorted(set(explicit) - set(resources))
        if unknown:
            raise ValidationError(
                f"Template format error: Unresolved resource dependencies [{', '.join(unknown)}] "
                "in the Resources block of the template"
            )
        implicit = references(resource.get("Properties", {})) & set(resources)
        graph[name] = set(explicit) | implicit
    return graph


def creation_order(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Topological order, stable with respect to the template's order; cycles are an error
    naming the resources caught in them."""
    pending = {name: set(deps) for name, deps in graph.items()}
    order: list[str] = []
    while pending:
        ready = [name for name, deps in pending.items() if not deps]
        if not ready:
            raise ValidationError(
                f"Circular dependency between resources: [{', '.join(_on_cycles(pending))}]"
            )
        for name in ready:
            order.append(name)
            del pending[name]
        for deps in pending.values():
            deps.difference_update(ready)
    return order


def _on_cycles(pending: dict[str, set[str]]) -> list[str]:
    """Drop the resources that merely wait for a cycle, keeping those caught in one."""
    remaining = {name: set(deps) for name, deps in pending.items()}
    waiting_only = [""]  # each round drops at least one resource, so it ends
    while waiting_only:
        needed = set().union(*remaining.values())
        waiting_only = [name for name in remaining if name not in needed]
        for name in waiting_only:
            del remaining[name]
    return sorted(remaining)
