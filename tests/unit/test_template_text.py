"""The template decoder: CloudFormation's short tags, lines for findings, and every refusal
with the line it is about; it agrees with cfn-lint's decoder on every template the project
has, and refuses what CloudFormation refuses (aliases) where cfn-lint expands them."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.decode import decode as cfn_lint_decode

from harness import template_text
from harness.template_text import TemplateSyntaxError, decode, decode_file
from harness.templates import plain

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, params=["libyaml", "pure-python"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test twice: on libyaml's parser (PyYAML's wheels have it) and on PyYAML's own,
    which a PyYAML built without libyaml falls back to and which reads tabs differently."""
    if request.param == "pure-python":
        monkeypatch.setattr(template_text, "_Loader", template_text.loader_on(yaml.SafeLoader))


def test_short_tags_are_the_long_forms() -> None:
    text = """
Resources:
  Key:
    Type: AWS::KMS::Key
    Condition: InProd
    Properties:
      Description: !Sub "key of ${AWS::StackName}"
      Alias: !If [InProd, !Ref Name, !GetAtt [Other, Arn]]
      Arn: !GetAtt Role.Arn.Suffix
      Parts: !Join
        - ""
        - [a, !Select [0, !Split [",", "x,y"]]]
      Enabled: !Equals [!Condition InProd, true]
"""
    properties = plain(decode(text, "t"))["Resources"]["Key"]["Properties"]
    assert properties == {
        "Description": {"Fn::Sub": "key of ${AWS::StackName}"},
        "Alias": {"Fn::If": ["InProd", {"Ref": "Name"}, {"Fn::GetAtt": ["Other", "Arn"]}]},
        "Arn": {"Fn::GetAtt": ["Role", "Arn.Suffix"]},
        "Parts": {"Fn::Join": ["", ["a", {"Fn::Select": [0, {"Fn::Split": [",", "x,y"]}]}]]},
        "Enabled": {"Fn::Equals": [{"Condition": "InProd"}, True]},
    }


def test_dicts_and_lists_know_their_line() -> None:
    decoded = decode("A:\n  B:\n    - x\n    - {C: 1}\n  D: !Ref E\n", "t")
    assert decoded["A"].start_mark.line == 1
    assert decoded["A"]["B"].start_mark.line == 2
    assert decoded["A"]["B"][1].start_mark.line == 3
    assert decoded["A"]["D"].start_mark.line == 4


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("A: 1\nB: 2\nA: 3\n", "Duplicate key 'A' (lines 1 and 3)"),
        ("A: 1\n~: 2\n", "Null key '~' not supported (line 2)"),
        ("A: 1\n? [x]\n: 2\n", "a key must be a scalar (line 2)"),
        ("A: [1\n", "(line 2, column 1)"),  # the wording is the parser's
        ("A: 1\n---\nB: 2\n", "but found another document (line 2, column 1)"),
        ("A: !Base64 {x: 1, x: 2}\n", "Duplicate key 'x' (lines 1 and 1)"),
        ("A:\n\tB: 1\n", "cannot start any token (line 2"),  # YAML: a tab is no space
        ("A: " + "[" * 1100 + "]" * 1100, "nest"),  # an error, not a crash of the reader
    ],
    ids=[
        "duplicate",
        "null-key",
        "mapping-key",
        "syntax",
        "two-documents",
        "duplicate-under-a-tag",
        "yaml-tab",
        "nesting",
    ],
)
def test_what_cloudformation_cannot_read_is_refused_with_its_line(text: str, problem: str) -> None:
    with pytest.raises(TemplateSyntaxError) as refused:
        decode(text, "body.yaml")
    assert problem in refused.value.problem
    assert str(refused.value).startswith("body.yaml: ")


def test_aliases_are_refused_as_cloudformation_refuses_them() -> None:
    """A small text whose aliases would expand to 10**9 nodes is refused at once."""
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
    )
    with pytest.raises(TemplateSyntaxError, match="YAML aliases are not supported") as refused:
        decode(laughs, "t")
    assert "anchored at line 1" in refused.value.problem
    # cfn-lint reads the one-alias case: the difference is on purpose (module docstring).
    with pytest.raises(TemplateSyntaxError, match="aliases"):
        decode("base: &b {x: 1}\nother: *b\n", "t")


def test_a_merge_key_merges_and_later_keys_win() -> None:
    assert plain(decode("A: {<<: {x: 1, y: 2}, y: 3}\n", "t")) == {"A": {"x": 1, "y": 3}}


def test_json_with_tabs_between_tokens_keeps_its_lines() -> None:
    """PyYAML's own parser refuses these tabs; the text is read again with spaces."""
    decoded = decode('{\n\t"A": {\n\t\t"B": [1, 2.5, "x\\/y"]\n\t}\n}\n', "t.json")
    assert plain(decoded) == {"A": {"B": [1, 2.5, "x/y"]}}
    assert decoded["A"].start_mark.line == 1


def test_an_empty_text_is_none_and_an_unreadable_file_names_itself(tmp_path: Path) -> None:
    assert decode("", "t") is None
    missing = tmp_path / "missing.yaml"
    with pytest.raises(TemplateSyntaxError, match="cannot read") as refused:
        decode_file(missing)
    assert refused.value.source == str(missing)


@functools.cache
def _cfn_lint_reading(path: Path) -> tuple[Any, bool]:
    """cfn-lint's values for a file (plain) and whether it refused it: read once, for both
    parsers' runs of the differential."""
    decoded, errors = cfn_lint_decode(str(path))
    return plain(decoded), bool(errors)


def _project_documents() -> list[Path]:
    folders = [ROOT / "infra", ROOT / "policies", ROOT / "tests"]
    return sorted(
        path
        for folder in folders
        for pattern in ("*.yaml", "*.yml", "*.json")
        for path in folder.rglob(pattern)
        if ".tox" not in path.parts
    )


def test_it_reads_every_project_document_as_cfn_lint_does() -> None:
    """Templates, policies and fixtures alike: where cfn-lint reads a file, this decoder
    reads the same values; where cfn-lint refuses one, so does this one."""
    compared = 0
    for path in _project_documents():
        theirs, errors = _cfn_lint_reading(path)
        if errors:
            with pytest.raises(TemplateSyntaxError):
                decode_file(path)
            continue
        try:
            ours = decode_file(path)
        except TemplateSyntaxError as refused:  # the one difference, on purpose
            assert "YAML aliases are not supported" in refused.problem, path
            continue
        assert plain(ours) == theirs, path
        compared += 1
    assert compared >= 20
