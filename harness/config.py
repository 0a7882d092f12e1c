"""One settings file for a project that adopts the harness: ``harness.toml`` (top-level keys)
or ``[tool.harness]`` in ``pyproject.toml``, read from the working directory.

Precedence, lowest first: the default, the file, the environment (``HARNESS_<KEY>``; the aws
target's accounts also from ``HARNESS_AWS_ACCOUNTS``), the command-line flag. Every value is
validated on load, and an error names the file and the key (``harness`` then exits 2).
``harness config`` prints the effective settings and where each came from.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import validation
from harness.exit_codes import exit_codes_help
from harness.report import FORMATS
from harness.targets import ACCOUNT_ROLES

FILES = ("harness.toml", "pyproject.toml")


class ConfigError(ValueError):
    """Settings are wrong: one problem each, naming where (file and key, variable or flag).

    ``settings`` holds what loaded, a wrong key left unset (None), so the caller can still
    check its other inputs and report every problem at once."""

    def __init__(self, problems: list[validation.Problem], settings: dict[str, Setting]):
        super().__init__("\n".join(f"{p.input}: {p.rule}" for p in problems))
        self.problems = problems
        self.settings = settings


def _rule(field: str, wrap: Callable[[Any], Any] = lambda v: v) -> Callable[[Any], Any]:
    """A value checked by the input rule every command applies (``harness.validation``), so a
    setting is refused in the same words from a file, the environment or a flag."""

    def check(value: Any) -> Any:
        found = validation.problems(validation.Inputs(**{field: wrap(value)}))
        if found:
            raise ValueError("; ".join(problem.rule for problem in found))
        return value

    return check


def _path(kind: validation.PathKind) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        return _rule("paths", lambda path: {kind: (kind, path)})(Path(value))

    return check


def _choice(*allowed: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return check


def _formats(value: Any) -> Any:
    """A TOML array, or a comma-separated string (``HARNESS_FORMATS``, ``--formats``)."""
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValueError('must be a list of format names, e.g. ["html", "sarif"]')
    return _rule("formats")(tuple(name.strip() for name in names))


def _accounts(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError("must be a table of targets, e.g. [tool.harness.accounts.aws]")
    for target, ids in value.items():
        if target != "aws":
            raise ValueError(f"{target}: only the aws target takes account ids")
        if not isinstance(ids, Mapping):
            raise ValueError(f"aws: must be a table naming {', '.join(ACCOUNT_ROLES)}")
        found = validation.problems(
            validation.Inputs(accounts=dict(ids), account_roles=tuple(ACCOUNT_ROLES))
        )
        if found:
            raise ValueError("aws: " + "; ".join(problem.rule for problem in found))
    return {target: dict(ids) for target, ids in value.items()}


@dataclass(frozen=True)
class Key:
    check: Callable[[Any], Any]
    default: Any
    help: str
    is_path: bool = False


KEYS: dict[str, Key] = {
    "target": Key(_rule("target"), "local", "where to run"),
    "prefix": Key(
        _rule("prefix"), None, "name prefix of every resource (default: the target's run id)"
    ),
    "region": Key(_rule("regions", lambda v: (v,)), "us-east-1", "region of the aws target"),
    "accounts": Key(_accounts, {}, "account ids per target: accounts.aws.<role> = <id>"),
    "templates": Key(_path("folder"), None, "folder of replacement account templates", True),
    "allowlist": Key(_path("file"), None, "the allow-list (default policies/access)", True),
    "report": Key(Path, None, "folder for the run's reports", is_path=True),
    "formats": Key(_formats, FORMATS, "report formats: " + ", ".join(FORMATS)),
    "unproven": Key(
        _choice("fail", "allow"), "fail", "an UNPROVEN promise: fail (exit 3) or allow (0)"
    ),
}
ENVIRONMENT = {name: f"HARNESS_{name.upper()}" for name in KEYS if name != "accounts"}


@dataclass(frozen=True)
class Setting:
    value: Any
    source: str  # "default", the file and key, the variable, or the flag


def _file_settings(folder: Path) -> tuple[Path | None, dict[str, Any]]:
    for name in FILES:
        path = folder / name
        if not path.is_file():
            continue
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError([validation.Problem(str(path), str(error))], {}) from error
        if name == "pyproject.toml":
            document = document.get("tool", {}).get("harness")
            if document is None:
                continue
        return path, document
    return None, {}


def _checked(name: str, raw: Any, where: str, base: Path | None) -> Any:
    """The value of key ``name``, or a problem naming ``where`` it came from."""
    key = KEYS.get(name)
    if key is None:
        return validation.Problem(where, f"unknown key; known: {', '.join(KEYS)}")
    if key.is_path and base is not None:
        raw = base / str(raw)
    try:
        return key.check(raw)
    except (ValueError, TypeError) as error:
        shown = f" {raw!r}" if isinstance(raw, str | int | float) else ""
        shown = f" {raw}" if isinstance(raw, Path) else shown
        return validation.Problem(f"{where}{shown}", str(error))


def load(
    folder: Path, environ: Mapping[str, str], flags: Mapping[str, Any] | None = None
) -> dict[str, Setting]:
    """The effective settings: defaults, then the file in ``folder``, then ``environ``, then
    the ``flags`` given (None means not given). Raises :class:`ConfigError` with every
    problem found."""
    settings = {name: Setting(key.default, "default") for name, key in KEYS.items()}
    path, document = _file_settings(folder)
    table = "[tool.harness]" if path is not None and path.name == "pyproject.toml" else ""
    given = [
        (name, raw, f"{path} {table} {name}".replace("  ", " "), path.parent if path else None)
        for name, raw in document.items()
    ]
    given += [(n, environ[v], v, None) for n, v in ENVIRONMENT.items() if environ.get(v)]
    given += [
        (name, value, f"--{name.replace('_', '-')}", None)
        for name, value in (flags or {}).items()
        if value is not None
    ]
    problems = []
    for name, raw, where, base in given:
        value = _checked(name, raw, where, base)
        if isinstance(value, validation.Problem):
            problems.append(value)
            if name in settings:
                settings[name] = Setting(None, where)
        else:
            settings[name] = Setting(value, where)
    if problems:
        raise ConfigError(problems, settings)
    return settings


def apply_to_environment(
    settings: Mapping[str, Setting], environ: MutableMapping[str, str]
) -> None:
    """Settings the targets read from the environment: the aws target's accounts (unless
    HARNESS_AWS_ACCOUNTS is set, which wins) and region, and the allow-list's path."""
    aws = settings["accounts"].value.get("aws")
    if aws and not environ.get("HARNESS_AWS_ACCOUNTS"):
        environ["HARNESS_AWS_ACCOUNTS"] = ",".join(f"{r}={i}" for r, i in aws.items())
    if settings["region"].source != "default":
        environ["AWS_REGION"] = environ["AWS_DEFAULT_REGION"] = settings["region"].value
    if settings["allowlist"].value is not None:
        environ["HARNESS_ALLOWLIST"] = str(settings["allowlist"].value)


def main(argv: list[str]) -> int:
    """``harness config``: the effective settings and where each came from."""
    parser = argparse.ArgumentParser(
        prog="harness config",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="keys:\n"
        + "\n".join(f"  {n}: {k.help}" for n, k in KEYS.items())
        + "\n\n"
        + exit_codes_help("config"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.parse_args(argv)
    try:
        settings = load(Path.cwd(), os.environ)
    except ConfigError as error:
        return validation.refuse("harness config", validation.Inputs(), error.problems)
    width = max(map(len, KEYS))
    for name, setting in settings.items():
        value = "(not set)" if setting.value in (None, {}) else setting.value
        value = ",".join(value) if isinstance(value, tuple) else value
        print(f"{name:<{width}}  {value}  <- {setting.source}")
    return 0
