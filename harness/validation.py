"""Every command's inputs checked before anything starts: one line per problem, naming the input
and the rule it breaks, so a bad input costs nothing and says how to fix it.

Rules are data: each :class:`Rule` names the input it reads and checks it; a command fills in
the :class:`Inputs` it has (an input it lacks stays ``None`` and its rules do not apply). The
prefix rule is read from the templates' own ``Prefix`` parameter and the region rule from
botocore's partitions, so the harness refuses exactly what CloudFormation and AWS would.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

USAGE_EXIT = 2
ACCOUNT_ID = re.compile(r"\d{12}")
PathKind = Literal["file", "folder", "file or folder"]
_IS_KIND: Mapping[str, Callable[[Path], bool]] = {
    "file": Path.is_file,
    "folder": Path.is_dir,
    "file or folder": Path.exists,
}


@dataclass(frozen=True)
class Inputs:
    """What a command was given; ``None`` means the command has no such input."""

    target: str | None = None
    prefix: str | None = None
    regions: tuple[str, ...] | None = None
    accounts: Mapping[str, str] | None = None  # account role (or letter) -> id
    account_roles: tuple[str, ...] | None = None  # the roles ``accounts`` must name, exactly
    report: Path | None = None  # a folder the command writes into
    templates: Mapping[str, Path] | None = None  # name -> template file it will deploy or read
    allowlist: Path | None = None
    paths: Mapping[str, tuple[PathKind, Path]] | None = None  # option -> what it must name
    loopback: bool = False  # the command opens loopback listeners (local targets)
    environ: Mapping[str, str] | None = None  # what the target reads from the environment
    scps: tuple[Path, ...] | None = None  # SCP files to attach before deploy (``--scp``)
    formats: tuple[str, ...] | None = None  # report formats to write


@dataclass(frozen=True)
class Problem:
    """One input that breaks one rule."""

    input: str
    rule: str

    def line(self, prog: str) -> str:
        return f"{prog}: {self.input}: {self.rule}"


@dataclass(frozen=True)
class Rule:
    """``check`` yields the problems of the input it reads; it runs only when ``applies``."""

    name: str
    applies: Callable[[Inputs], bool]
    check: Callable[[Inputs], Iterator[Problem]]


# the rules ----------------------------------------------------------------------------------
def _known_targets() -> Mapping[str, str]:
    from harness.targets.registry import TARGETS  # imports no target

    return TARGETS


def _target(inputs: Inputs) -> Iterator[Problem]:
    known = sorted(_known_targets())
    if inputs.target not in known:
        yield Problem(f"--target {inputs.target!r}", f"must be one of {', '.join(known)}")


@cache
def prefix_rules() -> tuple[tuple[str, str, int | None], ...]:
    """(template, AllowedPattern, MaxLength) of each project template's ``Prefix`` parameter:
    the rule every stack applies to the prefix, read where it is written."""
    from harness.templates import ACCOUNT_TEMPLATES, load_template

    rules = []
    for name, path in ACCOUNT_TEMPLATES.items():
        parameter = load_template(path).get("Parameters", {}).get("Prefix", {})
        if "AllowedPattern" in parameter:
            length = parameter.get("MaxLength")
            rules.append((name, str(parameter["AllowedPattern"]), length and int(length)))
    return tuple(rules)


def _prefix(inputs: Inputs) -> Iterator[Problem]:
    prefix = str(inputs.prefix)
    for template, pattern, max_length in prefix_rules():
        if not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), prefix):
            yield Problem(
                f"--prefix {prefix!r}",
                f"must match {pattern} (the Prefix parameter of infra/templates/{template}.yaml)",
            )
            return
        if max_length is not None and len(prefix) > max_length:
            yield Problem(f"--prefix {prefix!r}", f"must be at most {max_length} characters")
            return


@cache
def region_patterns() -> tuple[str, ...]:
    """Each AWS partition's region name pattern, from botocore's endpoint data."""
    from harness import service_models  # botocore: only when regions are given

    return tuple(p["regionRegex"] for p in service_models.partitions())


def _regions(inputs: Inputs) -> Iterator[Problem]:
    for region in inputs.regions or ():
        if not any(re.match(pattern, region) for pattern in region_patterns()):
            yield Problem(
                f"region {region!r}",
                "must be an AWS region name such as us-east-1 (botocore's partitions: "
                + " or ".join(region_patterns())
                + ")",
            )


def _accounts(inputs: Inputs) -> Iterator[Problem]:
    accounts = inputs.accounts or {}
    expected = inputs.account_roles
    if expected is not None and sorted(accounts) != sorted(expected):
        yield Problem(
            f"accounts {', '.join(accounts.values())}",
            f"must be one id for each of {', '.join(expected)}, in that order",
        )
    for role, account_id in accounts.items():
        if not ACCOUNT_ID.fullmatch(account_id):
            yield Problem(f"account id of {role} {account_id!r}", "must be exactly 12 digits")
    ids = list(accounts.values())
    for account_id in sorted({i for i in ids if ids.count(i) > 1}):
        named = [role for role, i in accounts.items() if i == account_id]
        yield Problem(f"account id {account_id}", f"given to {', '.join(named)}: must differ")


def _drill_fault(inputs: Inputs) -> Iterator[Problem]:
    """The local target reads a drill's fault when it starts: one it does not know is named
    before anything starts."""
    from harness.targets.local_environment import FAULT_VARIABLE

    spec = (inputs.environ or {}).get(FAULT_VARIABLE)
    if inputs.target != "local" or not spec:
        return
    from harness.targets.local.faults import UnknownFault, from_environment

    try:
        from_environment({FAULT_VARIABLE: spec})
    except UnknownFault as unknown:
        yield Problem(f"{FAULT_VARIABLE} {spec!r} (a drill's fault)", unknown.rule)


def _remote_settings(inputs: Inputs) -> Iterator[Problem]:
    """The ``aws`` target's settings come from the environment; read them as it will."""
    if inputs.target != "aws":
        return
    from harness.targets.aws.settings import AwsSettings, SettingsError
    from harness.targets.local_environment import FAULT_VARIABLE

    if (inputs.environ or {}).get(FAULT_VARIABLE):
        yield Problem(f"{FAULT_VARIABLE} (a drill's fault)", "must not be set for the aws target")
    try:
        settings = AwsSettings.from_environment(inputs.environ or {})
    except (SettingsError, ValueError) as error:
        yield Problem("aws target settings (HARNESS_AWS_*)", str(error))
        return
    yield from _regions(Inputs(regions=(settings.region,)))


def _served(inputs: Inputs) -> Iterator[Problem]:
    """A local target served by another process (``harness serve``), named by the
    environment or ``--endpoint``: reachable as the served target expects, and nothing asked
    of it that only a target started by this command can do."""
    from harness.targets.local_environment import attached_problems

    for name, rule in attached_problems(inputs.environ or {}):
        yield Problem(name, rule)
    if inputs.scps:
        yield Problem(
            "--scp with a served local target",
            "SCPs are attached before deploy to a target this command starts; run "
            "`harness run --scp` without --endpoint, or attach them with the Organizations API",
        )


def writable_problem(folder: Path) -> str | None:
    """Why nothing can be written in ``folder`` (it may not exist yet), or None.

    Tried, not asked: ``os.access`` says yes to root on a read-only mount. A folder that does
    not exist is judged by its nearest existing parent, and is not created here."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".harness-probe-"):
            pass
    except OSError as error:
        return f"cannot write in {existing}: {error.strerror or error}"
    return None


def _report(inputs: Inputs) -> Iterator[Problem]:
    problem = writable_problem(Path(str(inputs.report)))
    if problem is not None:
        yield Problem(f"report folder {inputs.report}", f"must be writable ({problem})")


def _templates(inputs: Inputs) -> Iterator[Problem]:
    from harness.templates import TemplateError, load_template

    for name, path in (inputs.templates or {}).items():
        if not path.is_file():
            yield Problem(f"template {name} ({path})", "must be an existing file")
            continue
        try:
            load_template(path)
        except (TemplateError, OSError, UnicodeDecodeError) as error:
            yield Problem(f"template {name} ({path})", f"must decode as YAML or JSON: {error}")


def _allowlist(inputs: Inputs) -> Iterator[Problem]:
    from harness.allowlist import DEFAULT_ACCOUNTS, load_allowlist, static_bindings

    path = Path(str(inputs.allowlist))
    try:
        load_allowlist(path, static_bindings(DEFAULT_ACCOUNTS), prefix=inputs.prefix or "mlops")
    except Exception as error:  # any fault of the file: named, then refused
        yield Problem(f"allow-list {path}", f"must be valid: {type(error).__name__}: {error}")


def _paths(inputs: Inputs) -> Iterator[Problem]:
    for option, (kind, path) in (inputs.paths or {}).items():
        if not _IS_KIND[kind](path):
            yield Problem(f"{option} {path}", f"must be an existing {kind}")
        elif path.is_file() and not os.access(path, os.R_OK):
            yield Problem(f"{option} {path}", "must be readable")


def _scps(inputs: Inputs) -> Iterator[Problem]:
    """SCPs need an organization (``local`` makes one) and each file must be one."""
    from harness.deploy.guardrails import ORGANIZATION_TARGETS, GuardrailError, read_scp

    if inputs.target is not None and inputs.target not in ORGANIZATION_TARGETS:
        yield Problem(
            f"--scp with --target {inputs.target}",
            f"needs a target whose accounts form an organization "
            f"({', '.join(sorted(ORGANIZATION_TARGETS))}); on aws, attach SCPs with AWS "
            "Organizations in the management account",
        )
    for path in inputs.scps or ():
        try:
            read_scp(path)
        except GuardrailError as error:
            yield Problem(f"--scp {path}", error.reason)


def _formats(inputs: Inputs) -> Iterator[Problem]:
    from harness.report import FORMATS

    given = inputs.formats or ()
    unknown = [name for name in given if name not in FORMATS]
    if unknown or not given:
        yield Problem(
            f"report formats {','.join(given)!r}",
            f"must be one or more of {', '.join(FORMATS)}",
        )


def _serving(inputs: Inputs) -> bool:
    from harness.targets.local_environment import ENDPOINT_VARIABLE

    return bool((inputs.environ or {}).get(ENDPOINT_VARIABLE))


def _served_elsewhere(inputs: Inputs) -> Iterator[Problem]:
    """A served local target named for another target would be ignored: the user meant
    one of the two, and a run on the other would prove what they did not ask for."""
    from harness.targets.local_environment import ENDPOINT_VARIABLE

    yield Problem(
        f"--endpoint / {ENDPOINT_VARIABLE}",
        f"names a local target served by `harness serve`; --target {inputs.target} does not "
        f"use it: use --target local, or unset {ENDPOINT_VARIABLE}",
    )


def _loopback(inputs: Inputs) -> Iterator[Problem]:
    """The local targets' listeners take free loopback ports; one must be free to bind."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
    except OSError as error:
        yield Problem("loopback ports", f"a free port on 127.0.0.1 must be bindable: {error}")


RULES: tuple[Rule, ...] = (
    Rule("target", lambda i: i.target is not None, _target),
    Rule("prefix", lambda i: i.prefix is not None, _prefix),
    Rule("regions", lambda i: i.regions is not None, _regions),
    Rule("accounts", lambda i: i.accounts is not None, _accounts),
    Rule("aws settings", lambda i: i.environ is not None, _remote_settings),
    Rule("drill fault", lambda i: i.environ is not None, _drill_fault),
    Rule("served local target", lambda i: i.target == "local" and _serving(i), _served),
    Rule(
        "served target elsewhere", lambda i: i.target != "local" and _serving(i), _served_elsewhere
    ),
    Rule("report", lambda i: i.report is not None, _report),
    Rule("templates", lambda i: i.templates is not None, _templates),
    Rule("allowlist", lambda i: i.allowlist is not None, _allowlist),
    Rule("paths", lambda i: i.paths is not None, _paths),
    Rule("scps", lambda i: bool(i.scps), _scps),
    Rule("formats", lambda i: i.formats is not None, _formats),
    Rule("ports", lambda i: i.loopback, _loopback),
)


def problems(inputs: Inputs, rules: Iterable[Rule] = RULES) -> list[Problem]:
    """Every problem of ``inputs``, in the rules' order."""
    return [problem for rule in rules if rule.applies(inputs) for problem in rule.check(inputs)]


def refuse(prog: str, inputs: Inputs, found_before: Iterable[Problem] = ()) -> int | None:
    """Print one line per problem (``found_before``, e.g. the settings file's, then those of
    ``inputs``) to stderr and return the usage exit code, or None when all is good."""
    found = [*found_before, *problems(inputs)]
    for problem in found:
        print(problem.line(prog), file=sys.stderr)
    if found:
        print(f"{prog}: {len(found)} input problem(s); nothing was started", file=sys.stderr)
        return USAGE_EXIT
    return None


def target_inputs(target: str, prefix: str | None, **given: object) -> Inputs:
    """The inputs of a command that works on a target (run, check, deploy, destroy): the
    target's own (its environment's settings, loopback ports) plus ``given``."""
    return Inputs(
        target=target,
        prefix=prefix,
        loopback=target in {"local", "localstack"},
        environ=target_environ(target),
        **given,  # type: ignore[arg-type]
    )


def target_environ(target: str | None) -> dict[str, str] | None:
    """The environment as an input where the target reads it: the ``aws`` target's settings,
    the ``local`` target's drill fault and the served target it names (refused elsewhere)."""
    return dict(os.environ) if target in {"aws", "local", "localstack"} else None


def given_paths(paths: Sequence[Path]) -> dict[str, tuple[PathKind, Path]]:
    """A command's positional paths as inputs: each must be an existing file or folder."""
    return {f"path {i + 1}": ("file or folder", path) for i, path in enumerate(paths)}


def deployed_templates(folder: Path | None) -> dict[str, Path]:
    """The account templates a deployment reads: ``folder``'s replacements, else infra/'s."""
    from harness.deploy.deploy import template_path
    from harness.templates import ACCOUNT_TEMPLATES

    return {account: template_path(account, folder) for account in ACCOUNT_TEMPLATES}
