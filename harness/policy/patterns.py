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

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class Token:
    """One element of a compiled pattern. The regex and the SMT model
    (``harness.proof``) are both built from these, so they read a pattern the same way.

    ``kind`` is ``text`` (literal characters), ``any`` (``*``: a run of characters),
    ``one`` (``?``: one character) or ``variable`` (``text`` is the context key, lower case,
    substituted literally). ``within_component``: the wildcard is in an ARN component before
    the resource and does not match a colon.
    """

    kind: str
    text: str = ""
    within_component: bool = False
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


def _glob_tokens(
    text: str, colons_seen: int, arn: bool, wildcards: bool = True
) -> tuple[list[Token], int]:
    """Tokens of glob text; in ARN mode wildcards stop at colons until the resource."""
    out: list[Token] = []
    for ch in text:
        in_prefix = arn and colons_seen < _ARN_COMPONENTS_BEFORE_RESOURCE
        if wildcards and ch in "*?":
            out.append(Token("any" if ch == "*" else "one", within_component=in_prefix))
            continue
        if ch == ":":
            colons_seen += 1
        if out and out[-1].kind == "text":
            out[-1] = Token("text", out[-1].text + ch)
        else:
            out.append(Token("text", ch))
    return out, colons_seen


def _tokens(parts: tuple[_Part, ...], arn: bool, wildcards: bool) -> tuple[Token, ...]:
    out: list[Token] = []
    colons = 0
    for part in parts:
        if part.kind == "glob":
            tokens, colons = _glob_tokens(part.text, colons, arn, wildcards)
            out += tokens
        elif part.kind == "literal":
            out.append(Token("text", part.text))
        else:
            out.append(Token("variable", part.text, default=part.default))
    return tuple(out)


_WILDCARD_SOURCE = {("any", True): "[^:]*", ("any", False): ".*", ("one", True): "[^:]"}


def _source(tokens: tuple[Token, ...], values: tuple[str, ...] = ()) -> str:
    """Regex source of tokens, with ``values`` substituted for the variables in order."""
    out: list[str] = []
    substitutions = iter(values)
    for token in tokens:
        if token.kind == "text":
            out.append(re.escape(token.text))
        elif token.kind == "variable":
            out.append(re.escape(next(substitutions)))
        else:
            out.append(_WILDCARD_SOURCE.get((token.kind, token.within_component), "."))
    return "".join(out)


@lru_cache(maxsize=65536)
def _compile(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source + r"\Z", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _is_arn_pattern(pattern: str) -> bool:
    return pattern.startswith("arn:") and pattern.count(":") >= _ARN_COMPONENTS_BEFORE_RESOURCE


class Pattern:
    """A compiled IAM pattern; ``matches`` substitutes variables from the request context."""

    __slots__ = ("_regex", "ignore_case", "match_all", "text", "tokens")

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
        self.ignore_case = ignore_case
        self.tokens = _tokens(_parse(text, variables), arn and _is_arn_pattern(text), wildcards)
        self._regex = (
            _compile(_source(self.tokens), ignore_case) if not self.has_variables else None
        )

    @property
    def has_variables(self) -> bool:
        return any(token.kind == "variable" for token in self.tokens)

    def resolve(self, lookup: Lookup) -> re.Pattern[str] | None:
        """The regex with variables filled in, or None if a variable has no value."""
        if self._regex is not None:
            return self._regex
        values: list[str] = []
        for token in self.tokens:
            if token.kind != "variable":
                continue
            value = variable_value(token, lookup)
            if value is None:
                return None
            values.append(value)
        return _compile(_source(self.tokens, tuple(values)), self.ignore_case)

    def matches(self, value: str, lookup: Lookup) -> bool:
        """True if ``value`` matches; an unresolvable variable never matches."""
        if self.match_all:
            return True
        regex = self._regex or self.resolve(lookup)
        return regex is not None and regex.match(value) is not None

    @property
    def literal(self) -> str | None:
        """The one value this pattern matches, if it has neither wildcards nor variables and
        compares case-sensitively (then equality is the whole test)."""
        if self.ignore_case or any(token.kind != "text" for token in self.tokens):
            return None
        return "".join(token.text for token in self.tokens)

    @property
    def prefix(self) -> str | None:
        """The text every match starts with, if that is the whole test: the pattern is text
        then one ``*`` that may span colons, compared case-sensitively (``bucket/*``)."""
        tokens = self.tokens
        if self.ignore_case or len(tokens) != 2:
            return None
        text, wildcard = tokens
        if text.kind != "text" or wildcard.kind != "any" or wildcard.within_component:
            return None
        return text.text

    def __repr__(self) -> str:
        return f"Pattern({self.text!r})"


@dataclass(frozen=True, slots=True)
class PatternSet:
    """Several patterns as one test, "does a value match any of them?", compiled for it:
    literal patterns become one set lookup, ``text*`` patterns one ``startswith`` and other
    variable-free ones their regexes, so that only patterns with variables are resolved per
    request."""

    patterns: tuple[Pattern, ...]
    match_all: bool = field(init=False, repr=False, compare=False)
    literals: frozenset[str] = field(init=False, repr=False, compare=False)
    prefixes: tuple[str, ...] = field(init=False, repr=False, compare=False)
    regexes: tuple[Callable[[str], re.Match[str] | None], ...] = field(
        init=False, repr=False, compare=False
    )
    variable: tuple[Pattern, ...] = field(init=False, repr=False, compare=False)
    quick: Callable[[str], object] | None = field(init=False, repr=False, compare=False)
    """``matches`` as one call in C, its result true or false alike, when no pattern has a
    variable or is ``*``: the engine tests a request's resource and condition values with
    it, a Python call less per test. None otherwise."""

    def __post_init__(self) -> None:
        patterns = self.patterns
        fixed = [p for p in patterns if p._regex is not None]
        derived = {  # frozen: set once, from the patterns
            "match_all": any(p.match_all for p in patterns),
            "literals": frozenset(p.literal for p in fixed if p.literal is not None),
            "prefixes": tuple(p.prefix for p in fixed if p.prefix is not None),
            "regexes": tuple(
                p._regex.match  # type: ignore[union-attr]
                for p in fixed
                if p.literal is None and p.prefix is None
            ),
            "variable": tuple(p for p in patterns if p._regex is None),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "quick", self._quick())

    def _quick(self) -> Callable[[str], object] | None:
        if self.match_all or self.variable or not self.patterns:
            return None
        if not self.prefixes and not self.regexes:
            return self.literals.__contains__
        if not self.literals and not self.regexes:
            return operator.methodcaller("startswith", self.prefixes)
        if not self.literals and not self.prefixes and len(self.regexes) == 1:
            return self.regexes[0]  # the pattern's own regex: none compiled for nothing
        # Each pattern keeps its own case rule in the one regex: a scoped inline flag.
        body = "|".join(
            f"(?{'i' if p.ignore_case else ''}:{_source(p.tokens)})" for p in self.patterns
        )
        return _compile(f"(?:{body})", False).match

    def matches(self, value: str, lookup: Lookup) -> bool:
        """True if ``value`` matches one of the patterns (``Pattern.matches``)."""
        if self.match_all or value in self.literals or value.startswith(self.prefixes):
            return True
        for match in self.regexes:
            if match(value) is not None:
                return True
        if not self.variable:  # usual: no generator made for nothing
            return False
        return any(pattern.matches(value, lookup) for pattern in self.variable)


def variable_value(token: Token, lookup: Lookup) -> str | None:
    """What a variable token stands for: the key's one value, else its default, else None
    (a key with several values cannot be substituted)."""
    value = lookup(token.text)
    if isinstance(value, list | tuple):
        value = value[0] if len(value) == 1 else None
    return token.default if value is None else value


def alternation(patterns: tuple[str, ...], *, ignore_case: bool) -> re.Pattern[str]:
    """One regex matching any of several variable-free wildcard patterns (used for actions)."""
    sources = [_source(tuple(_glob_tokens(p, 0, False)[0])) for p in patterns]
    body = "|".join(f"(?:{s})" for s in sources) or "(?!)"
    return _compile(f"(?:{body})", ignore_case)
