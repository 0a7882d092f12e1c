"""Split a set of actions or resources into the classes the policies cannot tell apart.

A property quantifies over every object of the bucket or every S3 action, but statements see
a request's action and resource only through their patterns, and every member of one class
of the partition those patterns induce matches the same ones: one member decides for all of
it. So the proof asks the solver once per class, about a concrete representative (which is
also a request someone can make), and keeps the string solver out of pattern algebra.

The classes come from the patterns' tokens (those the engine compiles its regexes from) read
as automata over an alphabet of character classes: the characters each literal (or, ignoring
case, its case variants) stands for, the colon that ARN wildcards stop at, and "any other".
Exploring the product of the automata reaches every class; each representative is checked
against the engine's own matching. Patterns with policy variables also depend on the context:
a caller with such patterns keeps the request symbolic instead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.policy.patterns import Pattern
from harness.proof.errors import ModelMismatch
from harness.proof.text import MAX_CHAR, same_ignoring_case

_OTHER_CANDIDATES = "xzq0_~#"
_FOUND: dict[tuple[object, ...], tuple[str, ...]] = {}  # see representatives


@dataclass(frozen=True)
class _Step:
    kind: str  # "text" (one character of ``chars``), "one" or "any"
    chars: frozenset[str] = frozenset()
    no_colon: bool = False


def _steps(pattern: Pattern) -> tuple[_Step, ...]:
    steps = []
    for token in pattern.tokens:
        if token.kind == "variable":
            raise ValueError(f"{pattern.text!r} has policy variables")
        if token.kind == "text":
            for char in token.text:
                chars = same_ignoring_case(char) if pattern.ignore_case else frozenset(char)
                steps.append(_Step("text", chars))
        else:
            steps.append(_Step(token.kind, no_colon=token.within_component))
    return tuple(steps)


class _Alphabet:
    """Characters grouped by which literal sets hold them: one representative per group."""

    def __init__(self, sets: Iterable[frozenset[str]]) -> None:
        self.sets = [*{s for s in sets}, frozenset(":")]
        members = sorted({c for s in self.sets for c in s})
        groups: dict[tuple[bool, ...], str] = {}
        for char in members:
            groups.setdefault(self._signature(char), char)
        other = next(
            (c for c in _OTHER_CANDIDATES if c not in members),
            next(chr(i) for i in range(MAX_CHAR + 1) if chr(i) not in members),
        )
        groups.setdefault(self._signature(other), other)
        self.letters = tuple(groups.values())

    def _signature(self, char: str) -> tuple[bool, ...]:
        return tuple(char in s for s in self.sets)


class _Automaton:
    """A glob as a set-of-positions automaton."""

    def __init__(self, steps: tuple[_Step, ...]) -> None:
        self.steps = steps

    def close(self, positions: Iterable[int]) -> frozenset[int]:
        found = set()
        for position in positions:
            while position not in found:
                found.add(position)
                if position < len(self.steps) and self.steps[position].kind == "any":
                    position += 1
                else:
                    break
        return frozenset(found)

    def start(self) -> frozenset[int]:
        return self.close([0])

    def accepts(self, state: frozenset[int]) -> bool:
        return len(self.steps) in state

    def step(self, state: frozenset[int], char: str) -> frozenset[int]:
        moved = []
        for position in state:
            if position == len(self.steps):
                continue
            step = self.steps[position]
            if step.kind == "text":
                if char in step.chars:
                    moved.append(position + 1)
            elif not (step.no_colon and char == ":"):
                moved.append(position if step.kind == "any" else position + 1)
        return self.close(moved)


def _member(pattern: Pattern, text: str) -> bool:
    return pattern.match_all or pattern.matches(text, lambda _key: None)


def _key(patterns: Iterable[Pattern]) -> tuple[tuple[object, ...], ...]:
    """What the classes depend on of each pattern: its text (filled in for a representative)
    and the tokens and case-sensitivity it matches by."""
    return tuple((p.text, p.tokens, p.ignore_case) for p in patterns)


def representatives(
    domain: Sequence[Pattern], patterns: Iterable[Pattern], prefer: Iterable[str] = ()
) -> list[str]:
    """One member of each nonempty class of ``domain`` (a union of patterns) under
    ``patterns``: one of ``prefer`` where the class holds one, else a pattern's own text
    with its wildcards filled in, else a shortest member. Worked out once per process for
    equal patterns: each proof of a system, in each variant, asks again for the same."""
    patterns, prefer = list(patterns), tuple(prefer)
    key = (_key(domain), _key(patterns), prefer)
    if key not in _FOUND:
        _FOUND[key] = tuple(_partition(domain, patterns, prefer))
    return list(_FOUND[key])


def _partition(
    domain: Sequence[Pattern], patterns: Sequence[Pattern], prefer: Sequence[str]
) -> list[str]:
    """:func:`representatives`, worked out."""
    distinct = list({(p.tokens, p.ignore_case): p for p in patterns if not p.match_all}.values())
    every = [*domain, *distinct]
    automata = [_Automaton(_steps(p)) for p in every]
    alphabet = _Alphabet(s.chars for a in automata for s in a.steps if s.kind == "text")
    start = tuple(a.start() for a in automata)
    seen = {start}
    queue = deque([(start, "")])
    classes: dict[tuple[bool, ...], str] = {}
    held = len(domain)
    while queue:
        state, text = queue.popleft()
        if any(a.accepts(s) for a, s in zip(automata[:held], state[:held], strict=True)):
            vector = tuple(a.accepts(s) for a, s in zip(automata[held:], state[held:], strict=True))
            classes.setdefault(vector, text)
        for char in alphabet.letters:
            following = tuple(a.step(s, char) for a, s in zip(automata, state, strict=True))
            if following not in seen and any(following[:held]):
                seen.add(following)
                queue.append((following, text + char))
    filled = [p.text.replace("*", "proof").replace("?", "x") for p in distinct]
    preferred = [p for p in (*prefer, *filled) if any(_member(d, p) for d in domain)]
    found = []
    for vector, text in classes.items():
        choice = next(
            (p for p in preferred if tuple(_member(q, p) for q in distinct) == vector), text
        )
        if tuple(_member(q, choice) for q in distinct) != vector:
            raise ModelMismatch(f"{choice!r} is not in the class of patterns it stands for")
        found.append(choice)
    return found
