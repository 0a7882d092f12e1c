"""CloudFormation template text, YAML or JSON, decoded into dicts, lists and strings whose
dicts and lists know their line (``start_mark.line``, 0-based), for findings that point into
the file.

Why not cfn-lint's decoder, which this one follows (YAML first, JSON with tabs as a
fallback, the short tags, duplicate and null keys refused): importing any of cfn-lint loads
all of it, sympy and networkx included for its rules, about 0.9 s of CPU in every harness
process; the run needs only the decoding. cfn-lint remains the gate's linter.

One difference, on purpose: YAML aliases are refused, as CloudFormation refuses them. cfn-lint
expands them up to a bound; refusing them also leaves no template that grows in memory as its
aliases are expanded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from harness.yaml_safe import SafeLoader

_UNPREFIXED_TAGS = frozenset({"Ref", "Condition"})
"""Short tags that name their key as is; every other ``!Name`` is ``Fn::Name``."""


class TemplateSyntaxError(ValueError):
    """The text is not a template CloudFormation could read: ``problem`` says what and on
    which line, ``source`` names the text (a file, a request's TemplateBody)."""

    def __init__(self, problem: str, source: str = "") -> None:
        super().__init__(f"{source}: {problem}" if source else problem)
        self.problem = problem
        self.source = source


class DictNode(dict):  # type: ignore[type-arg]
    """A mapping with the marks of its source (``start_mark.line``: 0-based)."""

    start_mark: Any
    end_mark: Any


class ListNode(list):  # type: ignore[type-arg]
    """A sequence with the marks of its source."""

    start_mark: Any
    end_mark: Any


def _marked(value: DictNode | ListNode, node: Node) -> Any:
    value.start_mark, value.end_mark = node.start_mark, node.end_mark
    return value


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _mapping(loader: Any, node: MappingNode) -> Any:
    result = _marked(DictNode(), node)
    yield result
    # With a merge key ("<<"), keys written after the merged ones override them, as in YAML.
    merging = any(key.tag == "tag:yaml.org,2002:merge" for key, _ in node.value)
    loader.flatten_mapping(node)  # the merged keys written out in place
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            raise TemplateSyntaxError(f"a key must be a scalar (line {_line(key_node)})")
        key = loader.construct_object(key_node)
        if key is None:
            raise TemplateSyntaxError(
                f"Null key {key_node.value!r} not supported (line {_line(key_node)})"
            )
        if key in lines and not merging:
            raise TemplateSyntaxError(
                f"Duplicate key {key!r} (lines {lines[key]} and {_line(key_node)})"
            )
        lines[key] = _line(key_node)
        result[key] = loader.construct_object(value_node)


def _sequence(loader: Any, node: SequenceNode) -> Any:
    result = _marked(ListNode(), node)
    yield result
    result.extend(loader.construct_sequence(node))


def _short_tag(loader: Any, suffix: str, node: Node) -> DictNode:
    """``!Ref x`` is ``{"Ref": "x"}``, ``!Sub ...`` is ``{"Fn::Sub": ...}``; ``!GetAtt a.b``
    is ``{"Fn::GetAtt": ["a", "b"]}`` (split at the first dot)."""
    name = suffix if suffix in _UNPREFIXED_TAGS else f"Fn::{suffix}"
    value: Any
    if isinstance(node, ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = _marked(ListNode(value.split(".", 1)), node)
    elif isinstance(node, SequenceNode):
        value = _marked(ListNode(loader.construct_sequence(node, deep=True)), node)
    else:  # a plain mapping node in its place: its keys are checked as any mapping's
        plain = MappingNode("tag:yaml.org,2002:map", node.value, node.start_mark, node.end_mark)
        value = loader.construct_object(plain, deep=True)
    return _marked(DictNode({name: value}), node)


def loader_on(base: type) -> type:
    """PyYAML's safe loader ``base`` (libyaml's or the pure-Python one) with CloudFormation's
    short tags, refusing duplicate and null keys and aliases."""

    class Loader(base):  # type: ignore[misc,valid-type]
        def construct_object(self, node: Node, deep: bool = False) -> Any:
            # An alias is the anchored node met again: any other node is constructed once.
            if node in self.constructed_objects or node in self.recursive_objects:
                raise TemplateSyntaxError(
                    "YAML aliases are not supported (CloudFormation rejects them): the value "
                    f"anchored at line {_line(node)} is used again"
                )
            return super().construct_object(node, deep)

    Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
    Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)
    Loader.add_multi_constructor("!", _short_tag)
    return Loader


_Loader = loader_on(SafeLoader)


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def decode(text: str, source: str) -> Any:
    """The template in ``text`` (None for an empty one); ``source`` names it in errors.

    JSON is read as YAML (it nearly is; this keeps the lines). JSON may hold tabs between
    its tokens where YAML may not: text that starts as JSON, holds tabs and fails to scan is
    read again with its tabs as spaces (its lines unchanged).
    """
    try:
        try:
            return _load(text)
        except yaml.scanner.ScannerError:
            if "\t" not in text or not _looks_like_json(text):
                raise
            return _load(text.replace("\t", " "))
    except yaml.YAMLError as error:  # of the first read, or of the second
        raise _syntax_error(error, source) from error
    except TemplateSyntaxError as refused:
        raise TemplateSyntaxError(refused.problem, source) from refused


def decode_file(path: Path) -> Any:
    """The template in the file at ``path`` (UTF-8); errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TemplateSyntaxError(f"cannot read: {error}", str(path)) from error
    return decode(text, str(path))


def _load(text: str) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except RecursionError:  # libyaml stops at 1,000 levels; PyYAML's own parser recurses
        raise TemplateSyntaxError("nested too deeply to read") from None
    finally:
        loader.dispose()


def _syntax_error(error: yaml.YAMLError, source: str) -> TemplateSyntaxError:
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    return TemplateSyntaxError(f"{context + ', ' if context else ''}{problem}{where}", source)
