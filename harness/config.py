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
import re
import sys
import tomllib
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.deploy.targets import TARGETS
from harness.targets import ACCOUNT_ROLES

FILES = ("harness.toml", "pyproject.toml")
_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ACCOUNT = re.compile(r"^\d{12}$")


class ConfigError(ValueError):
    """A setting is wrong; the message names where (file or variable) and the key."""


def _choice(*allowed: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    return check


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return check


def _existing(kind: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        path = Path(value)
        if not (path.is_dir() if kind == "folder" else path.is_file()):
            raise ValueError(f"{value} is not an existing {kind}")
        return path

    return check


def _folder(value: Any) -> Any:
    return Path(value)


def _accounts(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError("must be a table of targets, e.g. [tool.harness.accounts.aws]")
    for target, ids in value.items():
        if target != "aws":
            raise ValueError(f"{target}: only the aws target takes account ids")
        if not isinstance(ids, Mapping) or set(ids) != set(ACCOUNT_ROLES):
            raise ValueError(f"aws: name exactly {', '.join(ACCOUNT_ROLES)}")
        for role, account in ids.items():
            if not isinstance(account, str) or not _ACCOUNT.match(account):
                raise ValueError(f"aws.{role}: {account!r} is not a 12-digit account id")
    return {target: dict(ids) for target, ids in value.items()}


@dataclass(frozen=True)
class Key:
    check: Callable[[Any], Any]
    default: Any
    help: str
    is_path: bool = False


KEYS: dict[str, Key] = {
    "target": Key(_choice(*sorted(TARGETS)), "local", "where to run"),
    "prefix": Key(
        _matching(_PREFIX, "a name prefix (a-z, digits, -; 20 at most)"),
        None,
        "name prefix of every resource (default: the target's run id, else mlops)",
    ),
    "region": Key(_matching(_REGION, "an AWS region"), "us-east-1", "region of the aws target"),
    "accounts": Key(_accounts, {}, "account ids per target: accounts.aws.<role> = <id>"),
    "templates": Key(
        _existing("folder"), None, "folder of replacement account templates", is_path=True
    ),
    "allowlist": Key(
        _existing("file"), None, "the allow-list (default policies/access)", is_path=True
    ),
    "report": Key(_folder, None, "folder for the run's reports", is_path=True),
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
            raise ConfigError(f"{path}: {error}") from error
        if name == "pyproject.toml":
            document = document.get("tool", {}).get("harness")
            if document is None:
                continue
        return path, document
    return None, {}


def _checked(name: str, raw: Any, where: str, base: Path | None) -> Any:
    key = KEYS.get(name)
    if key is None:
        raise ConfigError(f"{where}: unknown key {name!r}; known: {', '.join(KEYS)}")
    if key.is_path and base is not None:
        raw = base / str(raw)
    try:
        return key.check(raw)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{where}: {error}") from error


def load(
    folder: Path, environ: Mapping[str, str], flags: Mapping[str, Any] | None = None
) -> dict[str, Setting]:
    """The effective settings: defaults, then the file in ``folder``, then ``environ``, then
    the ``flags`` given (None means not given)."""
    settings = {name: Setting(key.default, "default") for name, key in KEYS.items()}
    path, document = _file_settings(folder)
    table = "[tool.harness]" if path is not None and path.name == "pyproject.toml" else ""
    for name, raw in document.items():
        where = f"{path} {table} {name}".replace("  ", " ")
        settings[name] = Setting(_checked(name, raw, where, path.parent if path else None), where)
    for name, variable in ENVIRONMENT.items():
        if environ.get(variable):
            settings[name] = Setting(_checked(name, environ[variable], variable, None), variable)
    for name, value in (flags or {}).items():
        if value is not None:
            flag = f"--{name.replace('_', '-')}"
            settings[name] = Setting(_checked(name, value, flag, None), flag)
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
        epilog="keys: " + "; ".join(f"{n}: {k.help}" for n, k in KEYS.items()),
    )
    parser.parse_args(argv)
    try:
        settings = load(Path.cwd(), os.environ)
    except ConfigError as error:
        print(f"harness config: {error}", file=sys.stderr)
        return 2
    width = max(map(len, KEYS))
    for name, setting in settings.items():
        value = "(not set)" if setting.value in (None, {}) else setting.value
        print(f"{name:<{width}}  {value}  <- {setting.source}")
    return 0
