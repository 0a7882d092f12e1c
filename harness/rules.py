"""Rule metadata, as cfn-lint keeps it: a stable id, a title, a long description, a severity,
the AWS documentation the rule rests on and its remediation, for every gate rule and live check.

Each rule's metadata is data in a TOML file beside its code, one ``[[rule]]`` table per rule:
``policies/checks/<check>.toml`` beside each checkov check, ``harness/gate/document_checks.toml``
beside the gate's own checks, and ``tests/integration/test_<topic>.toml`` beside the live checks
(``check`` names the test function). TOML, not YAML, because checkov reads every YAML file of
its external checks folder as a policy of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.exit_codes import exit_codes_help
from harness.project_policies import policies_dir

FIELDS = ("id", "title", "description", "severity", "doc_url", "fix")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
DOC_PREFIX = "https://docs.aws.amazon.com/"
GATE_OWN_RULES = Path(__file__).resolve().parent / "gate" / "document_checks.toml"
SUITE = Path(__file__).resolve().parent.parent / "tests" / "integration"


class RuleError(ValueError):
    """A rule file is missing, unreadable, or a rule in it lacks a field."""


@dataclass(frozen=True)
class Rule:
    id: str
    title: str  # the short description
    description: str  # the long one: what the rule protects and why it matters
    severity: str
    doc_url: str  # the AWS documentation the rule rests on
    fix: str  # remediation
    kind: str  # "gate" (static, on templates) or "live" (a check of the compliance suite)
    source: str  # the metadata file
    check: str = ""  # live checks: the test function the rule describes


def load_file(path: Path, kind: str) -> list[Rule]:
    """The rules of one metadata file, each validated (every field, a known severity)."""
    try:
        tables = tomllib.loads(path.read_text()).get("rule")
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RuleError(f"{path}: {error}") from error
    if not isinstance(tables, list) or not tables:
        raise RuleError(f"{path}: no [[rule]] table")
    rules = []
    for table in tables:
        where = f"{path}: rule {table.get('id', '?')}"
        required = FIELDS + (("check",) if kind == "live" else ())
        missing = [f for f in required if not str(table.get(f, "")).strip()]
        if missing:
            raise RuleError(f"{where} lacks {', '.join(missing)}")
        unknown = set(table) - set(required)
        if unknown:
            raise RuleError(f"{where} has unknown field(s) {', '.join(sorted(unknown))}")
        if table["severity"] not in SEVERITIES:
            raise RuleError(f"{where}: severity {table['severity']!r} is not one of {SEVERITIES}")
        if not table["doc_url"].startswith(DOC_PREFIX):
            raise RuleError(f"{where}: doc_url must be AWS documentation ({DOC_PREFIX}...)")
        fields = {k: " ".join(str(table[k]).split()) for k in required}
        rules.append(Rule(**fields, kind=kind, source=str(path)))
    return rules


def gate_rule_files() -> list[Path]:
    """The checkov checks' metadata (shipped with the package) and the gate's own."""
    return [*sorted((policies_dir() / "checks").glob("*.toml")), GATE_OWN_RULES]


def live_rule_files(suite: Path = SUITE) -> list[Path]:
    """The live checks' metadata, beside the suite's test modules (present in a checkout)."""
    return sorted(suite.glob("test_*.toml"))


def load_rules(files: Iterable[tuple[Path, str]]) -> dict[str, Rule]:
    """Rules by id from ``(file, kind)`` pairs; an id defined twice is an error."""
    rules: dict[str, Rule] = {}
    for path, kind in files:
        for rule in load_file(path, kind):
            if rule.id in rules:
                first = rules[rule.id].source
                raise RuleError(f"{path}: rule {rule.id} is also defined in {first}")
            rules[rule.id] = rule
    return rules


def all_rules(suite: Path = SUITE) -> dict[str, Rule]:
    """Every gate rule and every live check of the suite, by id."""
    files = [(p, "gate") for p in gate_rule_files()]
    return load_rules(files + [(p, "live") for p in live_rule_files(suite)])


def gate_rules() -> dict[str, Rule]:
    return load_rules((p, "gate") for p in gate_rule_files())


def live_rule(nodeid: str, rules: Mapping[str, Rule]) -> Rule | None:
    """The rule of a live check, from its pytest node id (``.../test_x.py::test_y[cell]``)."""
    path, _, name = nodeid.partition("::")
    module = Path(path).stem
    function = name.split("[", 1)[0]
    return next(
        (
            r
            for r in rules.values()
            if r.kind == "live" and r.check == function and Path(r.source).stem == module
        ),
        None,
    )


def main(argv: list[str] | None = None) -> int:
    """``harness rules [ID ...] [--json]``: every rule with its severity and title, or the
    full metadata of the rules named. 0, or 2 for an unknown id or a broken rule file."""
    parser = argparse.ArgumentParser(
        prog="harness rules",
        description="The gate's rules and the live checks: id, severity, kind and title; "
        "name ids for the description, AWS documentation and remediation.",
        epilog=exit_codes_help("rules"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ids", nargs="*", help="show these rules in full")
    parser.add_argument("--json", action="store_true", help="print the metadata as JSON")
    args = parser.parse_args(argv)
    try:
        rules = all_rules()
    except RuleError as error:
        print(f"harness rules: {error}", file=sys.stderr)
        return 2
    unknown = [i for i in args.ids if i not in rules]
    if unknown:
        print(f"harness rules: no rule {', '.join(unknown)}", file=sys.stderr)
        return 2
    chosen = [rules[i] for i in args.ids] if args.ids else sorted(rules.values(), key=_order)
    if args.json:
        print(json.dumps([asdict(r) for r in chosen], indent=2))
    elif args.ids:
        for rule in chosen:
            print(_full(rule))
    else:
        for rule in chosen:
            print(f"{rule.id:<14} {rule.severity:<8} {rule.kind:<4}  {rule.title}")
        if not SUITE.is_dir():
            print(f"(live checks are listed from a checkout: no suite at {SUITE})")
    return 0


def _order(rule: Rule) -> tuple[str, str]:
    return (rule.kind, rule.id)


def _full(rule: Rule) -> str:
    def wrap(label: str, text: str) -> str:
        return textwrap.fill(text, 96, initial_indent=f"  {label:<12}", subsequent_indent=" " * 14)

    check = [f"  {'check':<12}{rule.check}"] if rule.check else []
    lines = [
        f"{rule.id} ({rule.kind}, {rule.severity}): {rule.title}",
        *check,
        wrap("what", rule.description),
        wrap("fix", rule.fix),
        f"  {'docs':<12}{rule.doc_url}",
        f"  {'defined in':<12}{rule.source}",
    ]
    return "\n".join(lines) + "\n"
