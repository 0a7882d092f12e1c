"""IAM wildcard patterns with policy variables, compiled once and cached.

IAM knows two wildcards, ``*`` (any run of characters) and ``?`` (one character). Actions
compare case-insensitively; ARNs and string conditions case-sensitively. An ARN pattern is
matched component by component (``arn:partition:service:region:account:resource``): a
wildcard in the first five components does not run across a colon, while the resource
component keeps any further colons. Policy variables (``${aws:username}``, ``${key, 'dflt'}``
and the literal escapes ``${*}``, ``${?}``, ``${$}``) are substituted from the request
context at evaluation time; the substituted text is literal, never a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*", "?", "$"}
_ARN_COMPONENTS_BEFORE_RESOURCE = 5

Lookup = Callable[[str], "str | list[str] | tuple[str, ...] | None"]


@dataclass(frozen=True, slots=True)
class _Part:
    """One piece of a pattern: text with wildcards, a literal, or a variable reference."""

    kind: str  # "glob" | "literal" | "variable"
    text: str  # glob text, literal text, or the variable's context key (lower case)
    default: str | None = None


def _parse(pattern: str, variables: bool) -> tuple[_Part, ...]:
    if not variables or "${" not in pattern:
        return (_Part("glob", pattern),)
    parts: list[_Part] = []
    position = 0
    for found in _VARIABLE.finditer(pattern):
        if found.start() > position:
            parts.append(_Part("glob", pattern[position : found.start()]))
        body = found.group(1).strip()
        if body in _ESCAPES:
            parts.append(_Part("literal", body))
        else:
            key, comma, default = body.partition(",")
            default = default.strip()
            if len(default) >= 2 and default[0] == default[-1] == "'":
                default = default[1:-1]
            parts.append(_Part("variable", key.strip().lower(), default if comma else None))
        position = found.end()
    if position < len(pattern):
        parts.append(_Part("glob", pattern[position:]))
    return tuple(parts)


def _glob_source(text: str, colons_seen: int, arn: bool, wildcards: bool = True) -> tuple[str, int]:
    """Regex source for glob text; in ARN mode wildcards stop at colons until the resource."""
    out: list[str] = []
    for ch in text:
        in_prefix = arn and colons_seen < _ARN_COMPONENTS_BEFORE_RESOURCE
        if not wildcards and ch in "*?":
            out.append(re.escape(ch))
        elif ch == "*":
            out.append("[^:]*" if in_prefix else ".*")
        elif ch == "?":
            out.append("[^:]" if in_prefix else ".")
        else:
            if ch == ":":
                colons_seen += 1
            out.append(re.escape(ch))
    return "".join(out), colons_seen


@lru_cache(maxsize=65536)
def _compile(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source + r"\Z", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _is_arn_pattern(pattern: str) -> bool:
    return pattern.startswith("arn:") and pattern.count(":") >= _ARN_COMPONENTS_BEFORE_RESOURCE


class Pattern:
    """A compiled IAM pattern; ``matches`` substitutes variables from the request context."""

    __slots__ = ("_arn", "_ignore_case", "_parts", "_regex", "_wildcards", "match_all", "text")

    def __init__(
        self,
        text: str,
        *,
        ignore_case: bool = False,
        arn: bool = False,
        variables: bool = False,
        wildcards: bool = True,
    ) -> None:
        self.text = text
        self.match_all = wildcards and text == "*"
        self._wildcards = wildcards
        self._ignore_case = ignore_case
        self._arn = arn and _is_arn_pattern(text)
        self._parts = _parse(text, variables)
        self._regex = (
            _compile(self._source(()), ignore_case)
            if all(p.kind != "variable" for p in self._parts)
            else None
        )

    @property
    def has_variables(self) -> bool:
        return self._regex is None

    def _source(self, values: tuple[str, ...]) -> str:
        out: list[str] = []
        colons = 0
        substitutions = iter(values)
        for part in self._parts:
            if part.kind == "glob":
                source, colons = _glob_source(part.text, colons, self._arn, self._wildcards)
                out.append(source)
            elif part.kind == "literal":
                out.append(re.escape(part.text))
            else:
                out.append(re.escape(next(substitutions)))
        return "".join(out)

    def resolve(self, lookup: Lookup) -> re.Pattern[str] | None:
        """The regex with variables filled in, or None if a variable has no value."""
        if self._regex is not None:
            return self._regex
        values: list[str] = []
        for part in self._parts:
            if part.kind != "variable":
                continue
            value = lookup(part.text)
            if isinstance(value, list | tuple):
                value = value[0] if len(value) == 1 else None
            if value is None:
                value = part.default
            if value is None:
                return None
            values.append(value)
        return _compile(self._source(tuple(values)), self._ignore_case)

    def matches(self, value: str, lookup: Lookup) -> bool:
        """True if ``value`` matches; an unresolvable variable never matches."""
        if self.match_all:
            return True
        regex = self._regex or self.resolve(lookup)
        return regex is not None and regex.match(value) is not None

    def __repr__(self) -> str:
        return f"Pattern({self.text!r})"


def alternation(patterns: tuple[str, ...], *, ignore_case: bool) -> re.Pattern[str]:
    """One regex matching any of several variable-free wildcard patterns (used for actions)."""
    sources = [_glob_source(p, 0, False)[0] for p in patterns]
    body = "|".join(f"(?:{s})" for s in sources) or "(?!)"
    return _compile(f"(?:{body})", ignore_case)
