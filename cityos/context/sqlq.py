"""NGSI-LD ``q`` and type expressions compiled to SQLAlchemy Core conditions on ``context_entities``.

The ASTs come from ``cityos.context.qlang``; the stored form is described in
``cityos.context.tables``. A term matches an entity when any instance of the attribute matches.
The compared value of an instance is its ``value`` (its ``object`` for a Relationship), a
sub-attribute's value, an NGSI-LD member such as ``observedAt``, or a key path into a JSON value.

Comparisons are type-safe: a number only matches JSON numbers, a string, date or time only JSON
strings, a boolean only JSON booleans; ``!=`` and ``!~=`` match any present value that is not
equal (or does not match), values of another type included. Every user value, IRI and key reaches
the database as a bound parameter, never as SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Text, and_, bindparam, case, collate, false, func, literal_column, not_, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from cityos.context.entity import EXPIRES_AT
from cityos.context.errors import BadRequestData
from cityos.context.qlang import (
    AttrPath,
    QAnd,
    QBool,
    QDateTime,
    QExpr,
    QList,
    QNumber,
    QOr,
    QRange,
    QScalar,
    QString,
    QTerm,
    QValue,
    TAnd,
    TName,
    TypeExpr,
)
from cityos.context.qtemplate import templated
from cityos.context.tables import entities, entity_types

# Members of an attribute instance that NGSI-LD names itself: kept literally, never expanded.
LITERAL_MEMBERS = frozenset(
    [
        "type",
        "value",
        "object",
        "languageMap",
        "observedAt",
        "unitCode",
        "datasetId",
        "createdAt",
        "modifiedAt",
        "json",
        "vocab",
        "valueList",
        "objectList",
        "objectType",
        "lang",
        "deletedAt",
        "instanceId",
        "expiresAt",  # kept as written on an instance (cityos.context.entity), so q=attr.expiresAt reads it
    ]
)

Expand = Callable[[str], str]
Cond = ColumnElement[bool]


def compile_q(expr: QExpr, *, expand: Expand, dialect: str, now: str | None = None) -> ColumnElement[bool]:
    """A condition on ``context_entities`` true for the entities that ``expr`` selects.

    ``expand`` maps attribute and sub-attribute terms to IRIs; ``dialect`` is ``"sqlite"`` or
    ``"postgresql"``. With ``now`` (stored form), an attribute instance whose expiresAt has passed
    is not there for any term (NGSI-LD 4.22): q sees what a read at ``now`` shows.
    """
    if dialect == "sqlite":
        backend: _Backend = _Sqlite()
    elif dialect == "postgresql":
        backend = _Postgres()
    else:
        raise ValueError(f"no q compiler for the {dialect!r} database")
    return _compile(expr, backend, expand, now)


def compile_type_expr(expr: TypeExpr, *, expand: Expand, tenant: str) -> ColumnElement[bool]:
    """A condition on ``context_entities`` true for the entities whose types satisfy ``expr``."""
    if isinstance(expr, TName):
        return _has_type([expand(expr.name)], tenant)
    if isinstance(expr, TAnd):
        return and_(*(compile_type_expr(e, expand=expand, tenant=tenant) for e in expr.items))
    # A run of plain names under one OR becomes one IN list.
    names = [expand(e.name) for e in expr.items if isinstance(e, TName)]
    parts = [_has_type(names, tenant)] if names else []
    parts += [compile_type_expr(e, expand=expand, tenant=tenant) for e in expr.items if not isinstance(e, TName)]
    return or_(*parts)


def compile_scope_q(expr: TypeExpr, *, dialect: str) -> ColumnElement[bool]:
    """A condition on ``context_entities`` true for the entities one of whose scopes matches each scope of
    ``expr`` as its ``;`` and ``|`` join them (NGSI-LD v1.8, clause 4.19): ``+`` stands for one level, a last
    ``/#`` for the scope itself and any below it, ``/#`` alone for any scope."""
    if isinstance(expr, TName):
        return _has_scope(expr.name, dialect)
    parts = [compile_scope_q(e, dialect=dialect) for e in expr.items]
    return and_(*parts) if isinstance(expr, TAnd) else or_(*parts)


def scope_pattern(scope: str) -> str | None:
    """The regular expression a scope of a scopeQ stands for, None for a scope without wildcards."""
    levels = scope.split("/")[1:]
    if "+" not in levels and levels[-1] != "#":
        return None
    out: list[str] = []
    for level in levels:
        if level == "#":
            out.append("(/.*)?" if out else "/.+")
        else:
            out.append("/" + ("[^/]+" if level == "+" else re.escape(level)))
    return "^" + "".join(out) + "$"


def _has_scope(scope: str, dialect: str) -> Cond:
    pattern = scope_pattern(scope)
    if dialect == "postgresql":
        # only an array is walked: jsonb_array_elements_text fails on anything else (the empty array bound as
        # JSONB: cast("[]", JSONB) would bind the JSON string "[]", on which it fails too)
        none = bindparam(None, [], type_=JSONB)
        scopes = case((func.jsonb_typeof(entities.c.scope) == "array", entities.c.scope), else_=none)
        each = func.jsonb_array_elements_text(scopes).table_valued("value").alias()
        wanted = bindparam(None, scope if pattern is None else pattern, type_=Text)
        match = each.c.value == wanted if pattern is None else each.c.value.op("~")(wanted)
    else:
        each = func.json_each(entities.c.scope).table_valued("value").alias()
        match = each.c.value == scope if pattern is None else each.c.value.op("REGEXP")(pattern)
    return and_(entities.c.scope.is_not(None), _exists(each, match))


def lacks_types(iris: Iterable[str], tenant: str) -> Cond:
    """A condition true for the entities of none of the types ``iris`` (expanded)."""
    return not_(_has_type(sorted(iris), tenant))


def _has_type(iris: list[str], tenant: str) -> Cond:
    iris = list(dict.fromkeys(iris))
    wanted = entity_types.c.type == iris[0] if len(iris) == 1 else entity_types.c.type.in_(iris)
    return entities.c.pk.in_(select(entity_types.c.entity_pk).where(entity_types.c.tenant == tenant, wanted))


# --- terms -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """Where the compared value sits inside one attribute instance, as JSON key paths."""

    value: tuple[str, ...]
    object: tuple[str, ...] | None  # a Relationship's target, tried when there is no value

    def paths(self, kind: str) -> list[tuple[str, ...]]:
        # Relationship objects are URI strings: only a string can match them.
        if self.object is None or kind in ("number", "bool"):
            return [self.value]
        return [self.value, self.object]


def linked_unsupported(rel: str) -> BadRequestData:
    """The error for a Linked Entity term where none is resolved (cityos.context.query resolves them for a
    query with join; subscriptions and other readers of q have no Linked Entity retrieval)."""
    return BadRequestData(
        f"q: the Linked Entity term {rel}{{...}} needs the Linked Entity retrieval of a query: add join=inline "
        "or join=flat (with joinLevel at least as deep as the term) to an entity query"
    )


def _compile(expr: QExpr, b: _Backend, expand: Expand, now: str | None) -> Cond:
    if isinstance(expr, QAnd):
        return and_(*(_compile(e, b, expand, now) for e in expr.items))
    if isinstance(expr, QOr):
        return or_(*(_compile(e, b, expand, now) for e in expr.items))
    if expr.path.linked is not None:
        raise linked_unsupported(expr.path.attr)
    path = expr.path
    expanded = _expanded(path, expand)
    kept = templated(expr, b.name, expanded, lambda term, at: _term(term, b, expand, at), now=now)
    return kept if kept is not None else _term(expr, b, expand, now)


LANGUAGE_WILDCARD = ("*",)  # attr[*]: any language of a LanguageProperty (NGSI-LD v1.9, clause 4.9)


def _expanded(path: AttrPath, expand: Expand) -> tuple[str, ...]:
    """The attribute's IRI, then its sub-attributes' (NGSI-LD's own members kept as they are)."""
    return (expand(path.attr), *(s if s in LITERAL_MEMBERS else expand(s) for s in path.sub))


def _term(term: QTerm, b: _Backend, expand: Expand, now: str | None = None) -> Cond:
    path = term.path
    if path.linked is not None:
        raise linked_unsupported(path.attr)
    iri, *sub = _expanded(path, expand)
    base = tuple(sub)
    on_member = bool(base) and base[-1] in LITERAL_MEMBERS
    wildcard = path.compound == LANGUAGE_WILDCARD and not on_member
    if path.compound and on_member:
        target = _Target((*base, *path.compound), None)
    elif wildcard:
        target = _Target((*base, "languageMap"), None)
    elif path.compound:
        # attr[key]: a key of a compound value, or a language of a LanguageProperty (NGSI-LD v1.8, clause 4.9)
        target = _Target((*base, "value", *path.compound), (*base, "languageMap", *path.compound))
    elif on_member:
        target = _Target(base, None)
    else:
        target = _Target((*base, "value"), (*base, "object"))

    if term.op is None:
        if not base and not path.compound:
            # an attribute whose instances have all expired is absent: an instance of it must be live
            found = b.has_attr(iri) if now is None else b.any_instance(iri, lambda doc: true(), now)
        else:
            paths = target.paths("string") if path.compound else [base]
            found = b.any_instance(iri, lambda doc: b.present(doc, paths), now)
        # coalesce: a NULL (no such attribute) must not turn "does not exist" into NULL too
        return not_(func.coalesce(found, false())) if term.negated_exists else found

    op, value = term.op, term.value
    if value is None:
        raise ValueError(f"the term on {path.attr!r} has operator {op!r} but no value")
    ordering = op in _ORDERING_OPS
    if op in ("==", "!="):
        match = _equal_matcher(b, value)
    elif op in ("~=", "!~="):
        if not isinstance(value, QString):
            raise ValueError("a pattern must be a QString")
        match = _regex_matcher(b, value.value)
    elif ordering and not isinstance(value, QList | QRange):
        match = _ordering_matcher(b, op, value)
    else:
        raise ValueError(f"cannot compile operator {op!r} with {type(value).__name__}")

    # The value compared, and the members it holds: the elements of an array value (a term matches when
    # one of them does), the languages of a languageMap for attr[*] (NGSI-LD v1.9, clause 4.9).
    container = "object" if wildcard else "array"

    def build(doc: Any) -> Cond:
        parts = []
        if not wildcard:
            # a Relationship's object is never ordered: only the value path is (NGSI-LD v1.8, clause 4.9)
            parts.append(match(lambda kind: b.operand(doc, [target.value] if ordering else target.paths(kind), kind)))
        parts.append(b.members(doc, target.value, container, lambda m: match(lambda kind: b.member_operand(m, kind))))
        return or_(*parts) if len(parts) > 1 else parts[0]

    if op in ("==", "~=", ">", ">=", "<", "<="):
        return b.any_instance(iri, build, now)
    # "Not equal" needs a present value of which nothing is equal: no element of an array, no language.
    return b.any_instance(
        iri, lambda doc: and_(b.present(doc, target.paths("string")), not_(func.coalesce(build(doc), false()))), now
    )


_ORDERING_OPS: dict[str, Callable[[Any, Any], Cond]] = {
    ">": lambda x, v: x > v,
    ">=": lambda x, v: x >= v,
    "<": lambda x, v: x < v,
    "<=": lambda x, v: x <= v,
}

Operand = tuple[Cond | None, Any, Callable[[Any], Any]]  # type guard, SQL value, literal maker
OperandOf = Callable[[str], "Operand | None"]  # the operand of a kind (number, string, bool), None: none
Matcher = Callable[[OperandOf], Cond]


def _sql_values(value: QScalar, *, equality: bool) -> tuple[str, list[Any]]:
    """The kind (number, string, bool) of a literal and the Python values it stands for."""
    if isinstance(value, QNumber):
        return "number", [value.value]
    if isinstance(value, QBool):
        return "bool", [value.value]
    if isinstance(value, QDateTime):
        # Stored timestamps are normalised; a date-time a client stored as a plain value is as written.
        return "string", list(dict.fromkeys([value.value, value.text])) if equality else [value.value]
    return "string", [value.value]


def _equal_matcher(b: _Backend, value: QValue) -> Matcher:
    if isinstance(value, QRange):
        kind, (low, *_) = _sql_values(value.low, equality=False)
        _, (high, *_) = _sql_values(value.high, equality=False)

        def between(operand_of: OperandOf) -> Cond:
            operand = operand_of(kind)
            if operand is None:
                return false()
            guard, x, lit = operand
            return _guarded(guard, b.ordered(x, kind).between(lit(low), lit(high)))

        return between

    groups: dict[str, list[Any]] = {}
    for item in value.items if isinstance(value, QList) else (value,):
        kind, values = _sql_values(item, equality=True)
        groups.setdefault(kind, []).extend(v for v in values if v not in groups.get(kind, ()))

    def equal(operand_of: OperandOf) -> Cond:
        parts = []
        for kind, values in groups.items():
            operand = operand_of(kind)
            if operand is None:
                continue
            guard, x, lit = operand
            match = x == lit(values[0]) if len(values) == 1 else x.in_([lit(v) for v in values])
            parts.append(match if guard is None else and_(guard, match))
        return or_(*parts) if parts else false()

    return equal


def _ordering_matcher(b: _Backend, op: str, value: QScalar) -> Matcher:
    kind, (v, *_) = _sql_values(value, equality=False)
    compare = _ORDERING_OPS[op]

    def ordering(operand_of: OperandOf) -> Cond:
        operand = operand_of(kind)
        if operand is None:
            return false()
        guard, x, lit = operand
        return _guarded(guard, compare(b.ordered(x, kind), lit(v)))

    return ordering


def _regex_matcher(b: _Backend, pattern: str) -> Matcher:
    def regex(operand_of: OperandOf) -> Cond:
        operand = operand_of("string")
        if operand is None:
            return false()
        guard, x, _ = operand
        return _guarded(guard, b.regex(x, pattern))

    return regex


# --- dialects --------------------------------------------------------------------------------------


def _guarded(guard: Cond | None, cond: Cond) -> Cond:
    """``cond`` where the value has the kind the guard checks (no guard: no check needed)."""
    return cond if guard is None else and_(guard, cond)


class _Backend(Protocol):
    name: str  # the dialect

    def has_attr(self, iri: str) -> Cond: ...

    def any_instance(self, iri: str, build: Callable[[Any], Cond], now: str | None = None) -> Cond: ...

    def present(self, doc: Any, paths: list[tuple[str, ...]]) -> Cond: ...

    def operand(self, doc: Any, paths: list[tuple[str, ...]], kind: str) -> Operand | None: ...

    def members(self, doc: Any, path: tuple[str, ...], container: str, build: Callable[[Any], Cond]) -> Cond: ...

    def member_operand(self, member: Any, kind: str) -> Operand | None: ...

    def ordered(self, x: Any, kind: str) -> Any: ...

    def regex(self, x: Any, pattern: str) -> Cond: ...


def _coalesce(items: list[Any]) -> Any:
    return items[0] if len(items) == 1 else func.coalesce(*items)


def _exists(source: Any, where: Cond) -> Cond:
    return select(literal_column("1")).select_from(source).where(where).exists()


def _json_path(keys: tuple[str, ...], prefix: str = "$") -> str | None:
    """A SQLite JSON path with every key quoted, or None when SQLite cannot address a key.

    SQLite (3.40) reads a quoted path label up to the next '"' with no escapes, and compares it
    with the raw JSON text of the key, so keys with quotes, backslashes or control characters
    cannot be addressed; such a key matches nothing rather than a wrong key.
    """
    if any('"' in k or "\\" in k or any(ord(c) < 0x20 for c in k) for k in keys):
        return None
    return prefix + "".join(f'."{k}"' for k in keys)


@dataclass(frozen=True)
class _Doc:
    """An attribute instance on SQLite: a JSON column and the path to the instance within it."""

    column: Any
    prefix: str


def _bound(v: Any) -> Any:
    # one bound parameter per value, also in an IN list: a plain list would become one expanding
    # parameter, which the compiled templates (below) cannot carry
    return bindparam(None, v)


class _Sqlite:
    name = "sqlite"

    def has_attr(self, iri: str) -> Cond:
        path = _json_path((iri,))
        if path is None:
            return false()
        return func.coalesce(func.json_array_length(entities.c.attrs, path), 0) > 0

    def any_instance(self, iri: str, build: Callable[[Any], Cond], now: str | None = None) -> Cond:
        path = _json_path((iri,))
        if path is None:
            return false()
        # Most attributes have one instance: test it by path, straight on the entity's document
        # (SQLite caches the parsed document across these calls), and walk the instances with
        # json_each only when there are more.
        first = self._live(_Doc(entities.c.attrs, path + "[0]"), build, now)
        inst = func.json_each(entities.c.attrs, path).table_valued("value").alias()
        others = _exists(inst, self._live(_Doc(inst.c.value, "$"), build, now))
        return or_(first, and_(func.json_array_length(entities.c.attrs, path) > 1, others))

    def _live(self, doc: _Doc, build: Callable[[Any], Cond], now: str | None) -> Cond:
        """``build(doc)`` for an instance that has not expired at ``now`` (stored forms compare as text)."""
        if now is None:
            return build(doc)
        # the value test first, then the expiry: on an entity whose text holds no expiresAt at all (nearly
        # every one) a byte search, cheaper than a JSON path, settles it
        expires = func.json_extract(doc.column, f'{doc.prefix}."{EXPIRES_AT}"')
        never = func.instr(entities.c.attrs, f'"{EXPIRES_AT}"') == 0
        return and_(build(doc), or_(never, expires.is_(None), expires > bindparam(None, now)))

    def _paths(self, doc: _Doc, paths: list[tuple[str, ...]]) -> list[str]:
        return [p for p in (_json_path(k, doc.prefix) for k in paths) if p is not None]

    def present(self, doc: _Doc, paths: list[tuple[str, ...]]) -> Cond:
        found = self._paths(doc, paths)
        if not found:
            return false()
        return _coalesce([func.json_type(doc.column, p) for p in found]).is_not(None)

    def operand(self, doc: _Doc, paths: list[tuple[str, ...]], kind: str) -> Operand | None:
        found = self._paths(doc, paths)
        if not found:
            return None
        jtype = _coalesce([func.json_type(doc.column, p) for p in found])
        if kind == "bool":
            return None, jtype, lambda v: bindparam(None, "true" if v else "false")
        guard = jtype.in_(("integer", "real")) if kind == "number" else jtype == "text"
        return guard, _coalesce([func.json_extract(doc.column, p) for p in found]), _bound

    def members(self, doc: _Doc, path: tuple[str, ...], container: str, build: Callable[[Any], Cond]) -> Cond:
        """True when a member of the array (or object) at ``path`` satisfies ``build``."""
        at = _json_path(path, doc.prefix)
        if at is None:
            return false()
        each = func.json_each(doc.column, at).table_valued("type", "value").alias()
        return and_(func.json_type(doc.column, at) == container, _exists(each, build(each)))

    def member_operand(self, member: Any, kind: str) -> Operand | None:
        jtype = member.c.type  # json_each: 'text', 'integer', 'real', 'true', 'false', ...
        if kind == "bool":
            return None, jtype, lambda v: bindparam(None, "true" if v else "false")
        guard = jtype.in_(("integer", "real")) if kind == "number" else jtype == "text"
        return guard, member.c.value, _bound

    def ordered(self, x: Any, kind: str) -> Any:
        return x  # SQLite compares text bytewise

    def regex(self, x: Any, pattern: str) -> Cond:
        return x.op("REGEXP")(pattern)  # the Python regexp() registered in cityos.store.engine


class _Postgres:
    name = "postgresql"

    def has_attr(self, iri: str) -> Cond:
        return func.coalesce(func.jsonb_array_length(self._attr(iri)), 0) > 0

    def any_instance(self, iri: str, build: Callable[[Any], Cond], now: str | None = None) -> Cond:
        inst = func.jsonb_array_elements(self._attr(iri)).table_valued("value").alias()
        if now is None:
            return _exists(inst, build(inst.c.value))
        # stored forms are fixed-width: byte order ("C") is time order, whatever the database's collation
        expires = collate(self._get(inst.c.value, (EXPIRES_AT,), as_text=True), "C")
        live = or_(expires.is_(None), expires > bindparam(None, now, type_=Text))
        return _exists(inst, and_(build(inst.c.value), live))  # the value test first: most instances fail it

    def _attr(self, iri: str) -> Any:
        return entities.c.attrs.op("->", return_type=JSONB)(bindparam(None, iri, type_=Text))

    def _get(self, doc: Any, keys: tuple[str, ...], *, as_text: bool) -> Any:
        # One '->' per key rather than '#>': '#>' reads a key like "0" as an array index, which
        # SQLite's quoted path labels never do.
        for key in keys[:-1]:
            doc = doc.op("->", return_type=JSONB)(bindparam(None, key, type_=Text))
        last = bindparam(None, keys[-1], type_=Text)
        return doc.op("->>", return_type=Text)(last) if as_text else doc.op("->", return_type=JSONB)(last)

    def present(self, doc: Any, paths: list[tuple[str, ...]]) -> Cond:
        return _coalesce([self._get(doc, p, as_text=False) for p in paths]).is_not(None)

    def operand(self, doc: Any, paths: list[tuple[str, ...]], kind: str) -> Operand | None:
        jvalue = _coalesce([self._get(doc, p, as_text=False) for p in paths])
        if kind == "bool":
            return None, jvalue, lambda v: bindparam(None, v, type_=JSONB)  # jsonb '=' is type-strict
        if kind == "number":
            return func.jsonb_typeof(jvalue) == "number", jvalue, lambda v: bindparam(None, v, type_=JSONB)
        text = _coalesce([self._get(doc, p, as_text=True) for p in paths])
        return func.jsonb_typeof(jvalue) == "string", text, lambda v: bindparam(None, v, type_=Text)

    def members(self, doc: Any, path: tuple[str, ...], container: str, build: Callable[[Any], Cond]) -> Cond:
        """True when a member of the array (or the value of a member of the object) at ``path`` satisfies
        ``build``; anything else is walked as an empty array (the set-returning functions fail on it)."""
        x = self._get(doc, path, as_text=False)
        # the empty container as a bound JSONB value: cast("[]", JSONB) would bind the JSON string "[]"
        empty = bindparam(None, [] if container == "array" else {}, type_=JSONB)
        walked = case((func.jsonb_typeof(x) == container, x), else_=empty)
        if container == "array":
            each = func.jsonb_array_elements(walked).table_valued("value").alias()
        else:
            each = func.jsonb_each(walked).table_valued("key", "value").alias()
        return _exists(each, build(each))

    def member_operand(self, member: Any, kind: str) -> Operand | None:
        jvalue = member.c.value
        if kind == "bool":
            return None, jvalue, lambda v: bindparam(None, v, type_=JSONB)
        if kind == "number":
            return func.jsonb_typeof(jvalue) == "number", jvalue, lambda v: bindparam(None, v, type_=JSONB)
        text = jvalue.op("#>>", return_type=Text)(literal_column("'{}'"))
        return func.jsonb_typeof(jvalue) == "string", text, lambda v: bindparam(None, v, type_=Text)

    def ordered(self, x: Any, kind: str) -> Any:
        # Byte order, as on SQLite, whatever the database's default collation.
        return collate(x, "C") if kind == "string" else x

    def regex(self, x: Any, pattern: str) -> Cond:
        return x.op("~")(bindparam(None, pattern, type_=Text))
