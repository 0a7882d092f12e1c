"""Strings in z3: literals in and out of the solver, and the engine's patterns as regexes.

z3's strings hold characters up to U+2FFFF and read ``\\u{...}`` in literals as escapes, so
text goes in with every non-printable character (and the backslash) escaped, and comes back
with the escapes z3 prints decoded. A pattern becomes a z3 regex from the very tokens the
engine compiles its regex from (:class:`harness.policy.patterns.Token`); case-insensitive
matching uses, per character, the set of characters Python's ``re`` (which the engine uses)
treats as equal to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache

import z3

from harness.policy.patterns import Pattern, Token
from harness.proof.errors import Unencodable

MAX_CHAR = 0x2FFFF  # z3's character range in its default (unicode) encoding
_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}")
STRING = z3.StringSort()
_RE = z3.ReSort(STRING)


@cache
def literal(text: str) -> z3.SeqRef:
    """``text`` as a z3 string constant (built once per text: a proof writes the same names
    and values into thousands of terms)."""
    encodable(text, "a string")
    return z3.StringVal(
        "".join(c if " " <= c <= "~" and c != "\\" else f"\\u{{{ord(c):x}}}" for c in text)
    )


def encodable(text: str, what: str) -> str:
    """``text`` unchanged, or :class:`Unencodable` if it has characters z3 cannot hold."""
    if any(ord(c) > MAX_CHAR for c in text):
        raise Unencodable(f"{what} {text!r} has characters beyond U+2FFFF")
    return text


def decode(value: z3.SeqRef) -> str:
    """A string of a z3 model as Python text."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value.as_string())


def any_char() -> z3.ReRef:
    return z3.AllChar(_RE)


def not_colon() -> z3.ReRef:
    return z3.Union(z3.Range("\\u{0}", "9"), z3.Range(";", f"\\u{{{MAX_CHAR:x}}}"))


def chars(members: Iterable[str]) -> z3.ReRef:
    """A regex of one character from ``members``."""
    options = [z3.Re(literal(c)) for c in sorted(set(members))]
    return options[0] if len(options) == 1 else z3.Union(*options)


@cache
def _all_chars() -> str:
    return "".join(map(chr, range(MAX_CHAR + 1)))


@cache
def same_ignoring_case(char: str) -> frozenset[str]:
    """The characters ``re.IGNORECASE`` matches ``char`` against (itself included)."""
    found = re.finditer(re.escape(char), _all_chars(), re.IGNORECASE)
    return frozenset(m.group() for m in found)


@cache
def _lowered_from_others() -> dict[str, frozenset[str]]:
    """The characters whose ``str.lower()`` is another character, by that character: one
    pass for every character asked about (a pass each was 16 ms, a proof asks about dozens)."""
    others: dict[str, set[str]] = {}
    for c in _all_chars():
        lowered = c.lower()
        if lowered != c:
            others.setdefault(lowered, set()).add(c)
    return {lowered: frozenset(chars) for lowered, chars in others.items()}


@cache
def lowering_to(char: str) -> frozenset[str]:
    """The characters whose ``str.lower()`` is ``char`` (what the Bool operator compares)."""
    itself = {char} if char.lower() == char else set()
    return frozenset(itself | _lowered_from_others().get(char, frozenset()))


@cache
def text_regex(text: str, fold: Callable[[str], frozenset[str]] | None = None) -> z3.ReRef:
    """Exactly ``text``; with ``fold``, each character may be any of ``fold(char)`` (built
    once per text and fold, as :func:`literal`)."""
    encodable(text, "the text")
    if fold is None:
        return z3.Re(literal(text))
    parts = [chars(fold(c)) for c in text]
    if not parts:
        return z3.Re(literal(""))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def _wildcard(token: Token) -> z3.ReRef:
    one = not_colon() if token.within_component else any_char()
    return z3.Star(one) if token.kind == "any" else one


def pattern_regex(pattern: Pattern, variables: Mapping[str, z3.SeqRef] | None = None) -> z3.ReRef:
    """The regex of ``pattern``; each variable token becomes the literal text of the term
    ``variables`` gives for it (the caller states when it resolves)."""
    fold = same_ignoring_case if pattern.ignore_case else None
    parts: list[z3.ReRef] = []
    for token in pattern.tokens:
        if token.kind == "text":
            parts.append(text_regex(token.text, fold))
        elif token.kind == "variable":
            if fold is not None:
                raise Unencodable(
                    f"pattern {pattern.text!r}: a policy variable in a case-insensitive "
                    "comparison cannot be encoded"
                )
            assert variables is not None
            parts.append(z3.Re(variables[token.text]))
        else:
            parts.append(_wildcard(token))
    if not parts:
        return z3.Re(literal(""))
    return parts[0] if len(parts) == 1 else z3.Concat(*parts)


def pattern_matches(
    pattern: Pattern, value: z3.SeqRef, variables: Mapping[str, z3.SeqRef] | None = None
) -> z3.BoolRef | bool:
    """``value`` matches ``pattern`` (variables substituted as in :func:`pattern_regex`)."""
    if pattern.match_all:
        return True
    return z3.InRe(value, pattern_regex(pattern, variables))
