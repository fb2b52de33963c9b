"""The NGSI-LD query language (``q``) and entity type expressions, parsed to small ASTs.

ETSI GS CIM 009 v1.8, clause 4.9 (query language) and clause 4.17 (entity type selection).
Parsing is pure; ``cityos.context.sqlq`` compiles the ASTs to SQL. Any bad input raises
``InvalidRequest`` whose detail names the 0-based position where the text went wrong; the same
position is in ``extra["position"]``.

q grammar, as accepted here (``;`` is AND and binds tighter than ``|``, which is OR)::

    expr   = conj *("|" conj)
    conj   = atom *(";" atom)
    atom   = "(" expr ")" / term
    term   = "!" path / path [op value]
    path   = name *("." name) *("[" key *("." key) "]")
    op     = "==" / "!=" / ">=" / "<=" / ">" / "<" / "~=" / "!~="
    value  = scalar / scalar 1*("," scalar) / scalar ".." scalar      (lists and ranges: == and != only)
    scalar = number / quoted string / true / false / date-time / date / time / URI

Names are terms, compact IRIs (``ex:temp``) or full IRIs (``https://example.org/ns/temp``): inside
a full IRI a dot belongs to the name while in the authority or when the next segment has a ``/`` or
``#``; otherwise a dot starts a sub-attribute. The pattern of ``~=`` and ``!~=`` is a quoted string
or unquoted text up to a ``;``, ``|`` or unbalanced ``)`` outside the pattern's own groups.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, NoReturn, TypeVar

from cityos.context.errors import InvalidRequest
from cityos.core.patterns import UnsupportedPattern, compile_pattern
from cityos.core.timefmt import format_ts

MAX_LENGTH = 8192
MAX_DEPTH = 32
MAX_TERMS = 128

# --- AST -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttrPath:
    """``attr.sub1.sub2[key1][key2]``: an attribute, sub-attributes, keys into a JSON value; or, with
    ``linked``, ``rel{[Type:]path}``: the path in the entity the Relationship ``attr`` targets."""

    attr: str
    sub: tuple[str, ...] = ()
    compound: tuple[str, ...] = ()
    linked: LinkedPath | None = None


@dataclass(frozen=True, slots=True)
class LinkedPath:
    """The inside of a Linked Entity term (NGSI-LD v1.9, clause 4.9): an optional entity type the target must
    have, and the path in the target (which may link further)."""

    type_hint: str | None
    path: AttrPath


@dataclass(frozen=True, slots=True)
class QNumber:
    value: int | float


@dataclass(frozen=True, slots=True)
class QString:
    value: str


@dataclass(frozen=True, slots=True)
class QBool:
    value: bool


@dataclass(frozen=True, slots=True)
class QDateTime:
    """A date-time: ``value`` in the stored form (UTC, milliseconds, ``Z``), ``text`` as written."""

    value: str
    text: str


@dataclass(frozen=True, slots=True)
class QDate:
    value: str


@dataclass(frozen=True, slots=True)
class QTime:
    value: str


@dataclass(frozen=True, slots=True)
class QUri:
    value: str


QScalar = QNumber | QString | QBool | QDateTime | QDate | QTime | QUri


@dataclass(frozen=True, slots=True)
class QList:
    """Any of these values (``==``) or none of them (``!=``)."""

    items: tuple[QScalar, ...]


@dataclass(frozen=True, slots=True)
class QRange:
    """``low..high``, both ends included."""

    low: QScalar
    high: QScalar


QValue = QScalar | QList | QRange


@dataclass(frozen=True, slots=True)
class QTerm:
    """One query term. ``op`` is None for ``attr`` (exists) and ``!attr`` (``negated_exists``)."""

    path: AttrPath
    op: str | None = None
    value: QValue | None = None
    negated_exists: bool = False


@dataclass(frozen=True, slots=True)
class QAnd:
    items: tuple[QExpr, ...]


@dataclass(frozen=True, slots=True)
class QOr:
    items: tuple[QExpr, ...]


QExpr = QTerm | QAnd | QOr


@dataclass(frozen=True, slots=True)
class TName:
    name: str


@dataclass(frozen=True, slots=True)
class TAnd:
    items: tuple[TypeExpr, ...]


@dataclass(frozen=True, slots=True)
class TOr:
    items: tuple[TypeExpr, ...]


TypeExpr = TName | TAnd | TOr

# --- public functions ------------------------------------------------------------------------------


def q_attributes(expr: QExpr) -> set[str]:
    """The attribute names (as written) that a q expression reads."""
    if isinstance(expr, QTerm):
        return {expr.path.attr}
    return set().union(*(q_attributes(e) for e in expr.items))


def q_exact(expr: QExpr) -> set[str]:
    """The attributes a q expression looks up by one given value (``attr=="v"``, on the attribute's own value,
    as a term of the top-level ``;``, once): a reader that holds a value can find a record by it (核验,
    verification) without learning more of the attribute than it gave. A list of values, an ``|``, a second
    term on the attribute, a pattern or a range would let it test many guesses at once, so they do not count."""
    return set(q_lookups(expr))


def q_lookups(expr: QExpr) -> dict[str, str | int | float | bool]:
    """The lookups of :func:`q_exact` with the value each looks up: attribute -> value (as stored)."""
    terms = expr.items if isinstance(expr, QAnd) else (expr,)
    seen: dict[str, int] = {}
    for e in terms:
        for attr in q_attributes(e):
            seen[attr] = seen.get(attr, 0) + 1
    return {
        t.path.attr: t.value.value
        for t in terms
        if isinstance(t, QTerm)
        and t.op == "=="
        and not t.path.sub
        and not t.path.compound
        and t.path.linked is None
        and t.value is not None
        and not isinstance(t.value, QList | QRange)
        and seen[t.path.attr] == 1
    }


def q_link_depth(expr: QExpr) -> int:
    """How many Relationships deep the Linked Entity terms of a q expression reach (0: none)."""
    if isinstance(expr, QTerm):
        depth, path = 0, expr.path
        while path.linked is not None:
            depth, path = depth + 1, path.linked.path
        return depth
    return max((q_link_depth(e) for e in expr.items), default=0)


def type_names(expr: TypeExpr) -> set[str]:
    """The type names (as written) an entity type expression names."""
    if isinstance(expr, TName):
        return {expr.name}
    return set().union(*(type_names(e) for e in expr.items))


def parse_q(text: str) -> QExpr:
    """Parse an NGSI-LD ``q`` (already URL-decoded). Raises ``InvalidRequest`` on any bad input."""
    expr: QExpr = _Parser(text, "q", "|", QAnd, QOr).parse()
    return expr


def parse_type_expr(text: str) -> TypeExpr:
    """Parse an entity type expression (``A,B``, ``A|B``, ``A;B``, parentheses).

    Raises ``InvalidRequest`` on any bad input.
    """
    expr: TypeExpr = _Parser(text, "type", "|,", TAnd, TOr).parse()
    return expr


def parse_scope_q(text: str) -> TypeExpr:
    """Parse a ``scopeQ`` (NGSI-LD v1.8, clause 4.19): scopes such as ``/Madrid/+/ParqueNorte`` or
    ``/CompanyA/#`` joined by ``;`` (and), ``|`` or ``,`` (or) and grouped in parentheses; the names of the
    tree it returns are the scopes. Raises ``InvalidRequest`` on any bad input."""
    expr: TypeExpr = _Parser(text, "scopeQ", "|,", TAnd, TOr).parse()
    for scope in type_names(expr):
        levels = scope.split("/")
        wild = [x for x in levels[1:] if x not in ("+", "#") and ("+" in x or "#" in x)]
        if levels[0] or not all(levels[1:]) or "#" in levels[1:-1] or wild:
            raise InvalidRequest(
                f"scopeQ: {scope!r} is not a scope: write /level/level, with + for any one level and a last /# "
                "for any levels below"
            )
    return expr


# --- lexical rules ---------------------------------------------------------------------------------

_OPERATORS = ("!~=", "==", "!=", ">=", "<=", "~=", ">", "<")
_ORDERING = frozenset({">", ">=", "<", "<="})
_NAME_EXTRA = frozenset("_-:/#@%+")
_TYPE_STOP = frozenset(",;|()<>\"'=[]{}\\")
_VALUE_STOP = frozenset(";|),")
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_FULL_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_INTEGER = re.compile(r"[-+]?\d{1,19}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[-+]\d{2}(?::?\d{2})?)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?[Zz]?")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"'<>\\^`{}|]+")

_VALUE_HINT = 'a number, a "quoted string", true, false, a date, time or date-time, or a URI'

_N = TypeVar("_N")


def _is_name_char(c: str) -> bool:
    return c.isalnum() or c in _NAME_EXTRA


def _join(cls: type, items: list[_N]) -> _N:
    """One node for a run of items joined by one operator, flattening nested nodes of the same kind."""
    if len(items) == 1:
        return items[0]
    flat: list[_N] = []
    for item in items:
        if isinstance(item, cls):
            flat.extend(item.items)  # type: ignore[attr-defined]  # an And or an Or
        else:
            flat.append(item)
    node: _N = cls(tuple(flat))
    return node


# --- parser ----------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over q (``what="q"``) or a type expression (``what="type"``)."""

    def __init__(self, text: str, what: str, or_chars: str, and_cls: type, or_cls: type) -> None:
        self.what = what
        self.or_chars, self.and_cls, self.or_cls = or_chars, and_cls, or_cls
        self.atom: Callable[[], Any] = self.q_term if what == "q" else self.type_name
        self.text = ""
        self.pos = 0
        self.depth = 0
        self.terms = 0
        if not isinstance(text, str):
            self.fail("must be a string", 0)
        self.text = text
        if len(text) > MAX_LENGTH:
            self.fail(f"the expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
        bad = _FORBIDDEN.search(text)
        if bad:
            self.fail("a NUL character or a lone surrogate is not allowed", bad.start())
        self.skip_ws()
        if self.pos == len(text):
            self.fail("the expression is empty", self.pos)

    # helpers

    def fail(self, message: str, pos: int | None = None) -> NoReturn:
        at = self.pos if pos is None else pos
        raise InvalidRequest(f"{self.what}: {message} at position {at}", position=at)

    def found(self) -> str:
        return f", found {self.text[self.pos]!r}" if self.pos < len(self.text) else ", found the end"

    def at(self, chars: str) -> bool:
        return self.pos < len(self.text) and self.text[self.pos] in chars

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def expect_end(self) -> None:
        self.skip_ws()
        if self.pos < len(self.text):
            if self.at(")"):
                self.fail("this ')' has no matching '('")
            seps = "';' or '|'" if self.what == "q" else "',', ';' or '|'"
            self.fail(f"expected {seps} between terms{self.found()}")

    def count_term(self) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            self.fail(f"the expression has more than {MAX_TERMS} terms: split it")

    # structure shared by q and type expressions

    def parse(self) -> Any:
        expr = self.disjunction()
        self.expect_end()
        return expr

    def disjunction(self) -> Any:
        items = [self.conjunction()]
        while True:
            self.skip_ws()
            if not self.at(self.or_chars):
                return _join(self.or_cls, items)
            self.pos += 1
            items.append(self.conjunction())

    def conjunction(self) -> Any:
        items = [self.group()]
        while True:
            self.skip_ws()
            if not self.at(";"):
                return _join(self.and_cls, items)
            self.pos += 1
            items.append(self.group())

    def group(self) -> Any:
        self.skip_ws()
        if not self.at("("):
            return self.atom()
        start = self.pos
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"parentheses nest deeper than {MAX_DEPTH}")
        self.pos += 1
        inner = self.disjunction()
        self.skip_ws()
        if not self.at(")"):
            self.fail(f"the '(' opened at position {start} needs a ')'{self.found()}")
        self.pos += 1
        self.depth -= 1
        return inner

    # type expressions

    def type_name(self) -> TName:
        self.count_term()
        start = self.pos
        text = self.text
        while self.pos < len(text) and not text[self.pos].isspace() and text[self.pos] not in _TYPE_STOP:
            self.pos += 1
        if self.pos == start:
            self.fail(f"expected an entity type name{self.found()}")
        return TName(text[start : self.pos])

    # q terms

    def q_term(self) -> QTerm:
        self.count_term()
        start = self.pos
        negated = self.at("!")
        if negated:
            self.pos += 1
        path = self.attr_path()
        written = self.text[start : self.pos]
        self.skip_ws()
        op = next((o for o in _OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            if self.pos < len(self.text) and not self.at(";|)"):
                if self.at("="):
                    self.fail(f"use '==' to compare {written!r} for equality")
                self.fail(
                    f"expected an operator (==, !=, >, >=, <, <=, ~=, !~=) or ';' / '|' after {written!r}{self.found()}"
                )
            return QTerm(path, None, None, negated)
        if negated:
            self.fail(
                "'!attr' tests that an attribute does not exist and takes no comparison: "
                "write 'attr!=value' to compare",
                start,
            )
        self.pos += len(op)
        self.skip_ws()
        value = self.pattern(op) if op in ("~=", "!~=") else self.value(op)
        self.skip_ws()
        if self.at(",") or self.text.startswith("..", self.pos):
            if op in ("==", "!="):
                self.fail("a value is one value, a list (a,b,c) or a range (low..high), not a mix")
            self.fail(f"value lists and ranges go with '==' and '!=' only, not {op!r}")
        return QTerm(path, op, value, False)

    def attr_path(self) -> AttrPath:
        attr = self.name("an attribute name")
        if self.what == "q" and self.at("{"):
            return self.linked_path(attr)
        subs: list[str] = []
        while self.at("."):
            self.pos += 1
            subs.append(self.name("a sub-attribute name after '.'"))
        keys: list[str] = []
        while self.at("["):
            start = self.pos
            end = self.text.find("]", start + 1)
            if end < 0:
                self.fail("expected ']' to close this '['", start)
            inner = self.text[start + 1 : end]
            nested = inner.find("[")
            if nested >= 0:
                self.fail("'[' is not allowed inside '[...]'", start + 1 + nested)
            parts = inner.split(".")
            if not all(parts):
                self.fail("expected key names separated by '.' inside '[...]'", start + 1)
            keys.extend(parts)
            self.pos = end + 1
        return AttrPath(attr, tuple(subs), tuple(keys))

    def linked_path(self, rel: str) -> AttrPath:
        """``rel{[Type:]path}`` (NGSI-LD v1.9, clause 4.9, EXAMPLES 13 and 14): inside the braces a name with a
        colon that is not a full IRI is read as ``Type:attribute`` (a compact IRI there needs the type first)."""
        start = self.pos
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"Linked Entity terms nest deeper than {MAX_DEPTH}")
        self.pos += 1
        name_start = self.pos
        first = self.name("an attribute name (or Type:attribute) inside '{'")
        type_hint: str | None = None
        if ":" in first and _FULL_IRI.match(first) is None:
            type_hint, _, attr = first.partition(":")
            if not type_hint or not attr:
                self.fail("write the type hint as {Type:attribute}", name_start)
            self.pos = name_start + len(type_hint) + 1
        else:
            self.pos = name_start
        inner = self.attr_path()
        if not self.at("}"):
            self.fail(f"the '{{' opened at position {start} needs a '}}'{self.found()}")
        self.pos += 1
        self.depth -= 1
        return AttrPath(rel, linked=LinkedPath(type_hint, inner))

    def name(self, what: str) -> str:
        start = self.pos
        self.pos = self.segment_end(self.pos)
        if self.pos == start:
            self.fail(f"expected {what}{self.found()}")
        iri = _FULL_IRI.match(self.text, start, self.pos)
        if iri is None:
            return self.text[start : self.pos]
        # A full IRI: dots in the authority or in a path with more segments are part of the name.
        while self.at("."):
            in_authority = not any(c in "/#" for c in self.text[iri.end() : self.pos])
            seg_end = self.segment_end(self.pos + 1)
            seg = self.text[self.pos + 1 : seg_end]
            if not seg:
                break
            if not in_authority and (_SCHEME.match(seg) or not any(c in "/#" for c in seg)):
                break
            self.pos = seg_end
        return self.text[start : self.pos]

    def segment_end(self, pos: int) -> int:
        text = self.text
        while pos < len(text) and _is_name_char(text[pos]):
            pos += 1
        return pos

    # values

    def value(self, op: str) -> QValue:
        start = self.pos
        first = self.scalar()
        if op in _ORDERING:
            if not _comparable(first):
                self.fail(f"{op!r} compares numbers, quoted strings, dates, times and date-times only", start)
            return first
        self.skip_ws()
        if self.text.startswith("..", self.pos):
            dots = self.pos
            self.pos += 2
            high = self.scalar()
            if not (_comparable(first) and _comparable(high)):
                self.fail("a range takes numbers, quoted strings, dates, times or date-times", dots)
            if _kind(first) != _kind(high):
                self.fail("both ends of a range must be of the same kind (two numbers, two strings, ...)", dots)
            return QRange(first, high)
        if not self.at(","):
            return first
        items = [first]
        while self.at(","):
            self.pos += 1
            items.append(self.scalar())
            self.skip_ws()
        return QList(tuple(items))

    def scalar(self) -> QScalar:
        self.skip_ws()
        start = self.pos
        if self.at("\"'"):
            return QString(self.quoted())
        text = self.text
        while (
            self.pos < len(text)
            and not text[self.pos].isspace()
            and text[self.pos] not in _VALUE_STOP
            and not text.startswith("..", self.pos)
        ):
            self.pos += 1
        raw = text[start : self.pos]
        if not raw:
            self.fail(f"expected a value ({_VALUE_HINT}){self.found()}")
        value = _classify(raw)
        if isinstance(value, str):
            self.fail(value, start)
        return value

    def quoted(self) -> str:
        text, start = self.text, self.pos
        quote = text[start]
        out: list[str] = []
        i = start + 1
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                # \" \' and \\ are escapes; other backslashes stay, so that regex classes like \d survive.
                out.append(nxt if nxt in "\"'\\" else c + nxt)
                i += 2
            elif c == quote:
                self.pos = i + 1
                return "".join(out)
            else:
                out.append(c)
                i += 1
        self.fail("this string has no closing quote", start)

    def pattern(self, op: str) -> QString:
        start = self.pos
        pattern = self.quoted() if self.at("\"'") else self.raw_pattern()
        if not pattern:
            self.fail(f"expected a regular expression after {op!r}", start)
        problem = _unportable(pattern)
        if problem:
            offset, what = problem
            # A quoted pattern is shifted by its opening quote (escapes may shift it a little more).
            self.fail(
                f"the regular expression uses {what}, which PostgreSQL does not support",
                start + offset + (start < len(self.text) and self.text[start] in "\"'"),
            )
        try:
            compile_pattern(pattern)  # the linear-time engine (RE2) that runs it on SQLite and in subscriptions
        except UnsupportedPattern as exc:
            self.fail(f"{pattern[:80]!r} is not a valid regular expression: {exc}", start)
        return QString(pattern)

    def raw_pattern(self) -> str:
        text, start = self.text, self.pos
        i, depth, in_class = start, 0, False
        while i < len(text):
            c = text[i]
            if c == "\\":
                i += 2
                continue
            if in_class:
                in_class = c != "]"
            elif c == "[":
                in_class = True
            elif c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            elif c in ";|" and depth == 0:
                break
            i += 1
        self.pos = min(i, len(text))
        return text[start : self.pos].rstrip()


_UNPORTABLE_GROUP = re.compile(r"\(\?(?:P|<[A-Za-z_]|\(|>|[aiLmsux-]+:)")
_REPEAT = re.compile(r"\{(\d*)(?:,(\d*))?\}")
MAX_REPEAT = 255  # PostgreSQL's largest repetition count


def _unportable(pattern: str) -> tuple[int, str] | None:
    """Where a pattern that Python's re accepts uses something PostgreSQL's regex engine rejects.

    Patterns run in Python on SQLite and in PostgreSQL otherwise; refusing these on both keeps one
    query valid everywhere and keeps a database error (a 500) out of reach.
    """
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and (group := _UNPORTABLE_GROUP.match(pattern, i)):
            return i, f"the group syntax {group.group()!r}"
        elif c in "*+?}" and pattern.startswith("+", i + 1) and not (c == "?" and pattern.startswith("(", i - 1)):
            return i + 1, "a possessive quantifier"
        elif c == "{":
            rep = _REPEAT.match(pattern, i)
            if rep and rep.group(1) == "" and rep.group(2) is not None:
                return i, "a repetition without a lower bound ({,n})"
            if rep and any(n and (len(n) > 3 or int(n) > MAX_REPEAT) for n in rep.groups()):
                return i, f"a repetition count over {MAX_REPEAT}"
        i += 1
    return None


def _kind(value: QScalar) -> str:
    if isinstance(value, QNumber):
        return "number"
    if isinstance(value, QBool):
        return "bool"
    return "string"


def _comparable(value: QScalar) -> bool:
    return isinstance(value, QNumber | QString | QDateTime | QDate | QTime)


def _classify(raw: str) -> QScalar | str:
    """The typed value of an unquoted token, or a message saying why it is none."""
    if raw in ("true", "false"):
        return QBool(raw == "true")
    if _NUMBER.fullmatch(raw):
        return _number(raw)
    if _DATETIME.fullmatch(raw):
        try:
            dt = datetime.fromisoformat(raw[:-1] + "Z" if raw[-1] == "z" else raw)
            return QDateTime(format_ts(dt), raw)
        except (ValueError, OverflowError):
            return f"{raw!r} is not a valid date-time"
    if _DATE.fullmatch(raw):
        try:
            date.fromisoformat(raw)
        except ValueError:
            return f"{raw!r} is not a valid date"
        return QDate(raw)
    if _TIME.fullmatch(raw):
        try:
            time.fromisoformat(raw.rstrip("Zz"))
        except ValueError:
            return f"{raw!r} is not a valid time"
        return QTime(raw)
    if _URI.fullmatch(raw):
        return QUri(raw)
    shown = raw if len(raw) <= 40 else raw[:40] + "..."
    return f"{shown!r} is not {_VALUE_HINT}: put a string in double quotes"


def _number(raw: str) -> QNumber | str:
    if _INTEGER.fullmatch(raw):
        n = int(raw)
        if -(2**63) <= n < 2**63:
            return QNumber(n)
    value = float(raw)
    if value in (float("inf"), float("-inf")):
        return f"the number {raw[:40]!r} is out of range"
    return QNumber(value)
