"""Scope queries (``scopeQ``) on the temporal API, with a scope valid from the time it was set until it was
replaced or deleted (NGSI-LD v1.8 clauses 4.18 and 4.19).

A scopeQ is scopes joined by ``;`` (and) and ``|`` (or, binding less), with parentheses; a scope ending in
``/#`` matches it and its subtree, ``/#`` alone any scope, ``/+`` one level below.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection

from cityos.context.errors import BadRequestData

ScopeTest = Callable[[Collection[str]], bool]  # the entity's scopes at one time -> whether they match


def parse_scope_q(text: str) -> ScopeTest:
    """The test a scopeQ makes of an entity's scopes; BadRequestData when it is not one."""
    tokens = _tokens(text)
    test, rest = _any(tokens, text)
    if rest:
        raise _bad(text, f"unexpected {rest[0]!r}")
    return test


def _bad(text: str, why: str) -> BadRequestData:
    return BadRequestData(f"scopeQ={text[:80]!r} is not a scope query ({why}): e.g. /Madrid/# or /A/B;/C|/D")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in "();|":
            out.append(c)
            i += 1
            continue
        j = i
        while j < len(text) and text[j] not in "();|":
            j += 1
        scope = text[i:j]
        if not scope.startswith("/") or " " in scope or "//" in scope or (scope.endswith("/") and scope != "/"):
            raise _bad(text, f"{scope!r} is not a scope")
        out.append(scope)
        i = j
    if not out:
        raise _bad(text, "it is empty")
    return out


def _any(tokens: list[str], text: str) -> tuple[ScopeTest, list[str]]:
    first, rest = _all(tokens, text)
    tests = [first]
    while rest and rest[0] == "|":
        nxt, rest = _all(rest[1:], text)
        tests.append(nxt)
    return (first if len(tests) == 1 else lambda s: any(t(s) for t in tests)), rest


def _all(tokens: list[str], text: str) -> tuple[ScopeTest, list[str]]:
    first, rest = _one(tokens, text)
    tests = [first]
    while rest and rest[0] == ";":
        nxt, rest = _one(rest[1:], text)
        tests.append(nxt)
    return (first if len(tests) == 1 else lambda s: all(t(s) for t in tests)), rest


def _one(tokens: list[str], text: str) -> tuple[ScopeTest, list[str]]:
    if not tokens:
        raise _bad(text, "a scope is missing")
    head, rest = tokens[0], tokens[1:]
    if head == "(":
        inner, rest = _any(rest, text)
        if not rest or rest[0] != ")":
            raise _bad(text, "a parenthesis is not closed")
        return inner, rest[1:]
    if head in ");|":
        raise _bad(text, f"unexpected {head!r}")
    return _matcher(head), rest


def _matcher(pattern: str) -> ScopeTest:
    if pattern == "/#":
        return lambda scopes: bool(scopes)
    if pattern.endswith("/#"):
        base = pattern[:-2]
        return lambda scopes: any(s == base or s.startswith(base + "/") for s in scopes)
    if pattern.endswith("/+"):
        base = pattern[:-2]
        return lambda scopes: any(s.startswith(base + "/") and "/" not in s[len(base) + 1 :] for s in scopes)
    return lambda scopes: pattern in scopes


class ScopeTimeline:
    """An entity's scopes over time: each set of scopes valid from its time until the next one."""

    def __init__(self, changes: list[tuple[int, list[str]]], now: list[str] | None) -> None:
        changes = sorted(changes, key=lambda c: c[0])
        self.times = [t for t, _ in changes]
        self.scopes = [s for _, s in changes]
        self.now = now or []  # with no history of scopes, the entity's scope holds at every time

    def at(self, ts: int) -> list[str]:
        if not self.times:
            return self.now
        i = bisect.bisect_right(self.times, ts)
        return self.scopes[i - 1] if i else []
