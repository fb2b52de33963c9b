"""A ``q`` term's SQL compiled once per shape; each use binds the term's own values.

Building a term's SQLAlchemy condition costs far more than the database's work on it: since
comparisons also match the elements of an array value (NGSI-LD v1.9, clause 4.9), a comparison on
an attribute is a few hundred nodes, and a statement holding a new tree is compiled to SQL again.
What a term's SQL looks like depends on its path, its operator and the kinds of its values, never
on the values: so the condition is built once with stand-in values, compiled to SQL text with
named parameters, and kept; each use binds the term's values where the stand-ins were. Values
still reach the database as bound parameters only.

A term whose stand-ins cannot all be found among the compiled parameters, or whose SQL the text
construct would read differently, is built the plain way each time (``templated`` returns None).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from threading import Lock
from typing import Any

from sqlalchemy import bindparam, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.types import TypeEngine

from cityos.context.qlang import QBool, QDateTime, QList, QNumber, QRange, QScalar, QTerm
from cityos.context.tables import entities

Cond = ColumnElement[bool]


def _dialect(dialect: Dialect) -> Dialect:
    # no casts in the template's text (psycopg renders ':name::TYPE'): the engine's own dialect adds them
    # when it compiles the statement that holds the template
    dialect.bind_typing = BindTyping.NONE
    return dialect


_DIALECTS: dict[str, Dialect] = {
    "sqlite": _dialect(sqlite.dialect(paramstyle="named")),
    "postgresql": _dialect(postgresql.dialect(paramstyle="named")),
}
_STAND_IN = -7_392_104_518_263  # far from any number the SQL itself holds (0, 1, path indexes)
_KEEP = 1024  # term shapes kept per process (a dashboard's queries repeat a few dozen)
_MOST_VALUES = 16  # a term with more values is built the plain way
_NOW = "\x00now"  # the stand-in of a use's time (a marked string: never kept as a constant)
_NOW_LEAF = -1  # the slot of that time
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])")  # the names text() finds


@dataclass(frozen=True)
class _Slot:
    name: str  # the bound parameter's name in the template
    leaf: int  # which of the term's values
    field: str  # "value", or "text" for a date-time as written
    type: TypeEngine[Any]


@dataclass(frozen=True)
class _Template:
    clause: TextClause
    slots: tuple[_Slot, ...]


_templates: OrderedDict[Hashable, _Template | None] = OrderedDict()
_lock = Lock()


def templated(
    term: QTerm,
    dialect: str,
    expanded: tuple[str, ...],
    build: Callable[[QTerm, str | None], Cond],
    *,
    now: str | None = None,
) -> Cond | None:
    """``build(term, now)`` as a compiled template with ``term``'s values (and ``now``) bound, or None when the
    term cannot be templated. ``expanded`` holds the IRIs the term's names expand to (the same names may expand
    differently under another @context). ``now``, the time instances' expiry is compared with, is a value of
    each use like the term's, never part of the shape."""
    leaves = _leaves(term)
    if len(leaves) > _MOST_VALUES:
        return None  # a long list (the ids a Linked Entity term resolved to): its length would be a shape of its own
    stand_ins: list[QScalar] = []
    where: dict[Any, tuple[int, str]] = {}
    for i, leaf in enumerate(leaves):
        stand_in, found = _stand_in(leaf, i)
        stand_ins.append(stand_in)
        where.update(found)
    if now is not None:
        where[_NOW] = (_NOW_LEAF, "now")
    shape = _with_values(term, stand_ins)
    key = (dialect, shape, expanded, now is not None)
    with _lock:
        known = key in _templates
        template = _templates.get(key)
        if known:
            _templates.move_to_end(key)
    if not known:
        template = _compile(build(shape, None if now is None else _NOW), dialect, where)
        with _lock:
            _templates[key] = template
            while len(_templates) > _KEEP:
                _templates.popitem(last=False)
    if template is None:
        return None
    binds = [
        bindparam(s.name, now if s.leaf == _NOW_LEAF else getattr(leaves[s.leaf], s.field), type_=s.type, unique=True)
        for s in template.slots
    ]
    clause: Any = template.clause.bindparams(*binds) if binds else template.clause
    return clause  # a TextClause: SQLAlchemy takes it wherever a condition goes


def _leaves(term: QTerm) -> list[QScalar]:
    value = term.value
    if value is None:
        return []
    if isinstance(value, QList):
        return list(value.items)
    if isinstance(value, QRange):
        return [value.low, value.high]
    return [value]


def _with_values(term: QTerm, leaves: list[QScalar]) -> QTerm:
    value = term.value
    if isinstance(value, QList):
        return replace(term, value=QList(tuple(leaves)))
    if isinstance(value, QRange):
        return replace(term, value=QRange(leaves[0], leaves[1]))
    return replace(term, value=leaves[0]) if leaves else term


def _stand_in(leaf: QScalar, i: int) -> tuple[QScalar, dict[Any, tuple[int, str]]]:
    """A value of the same kind (and Python type) as ``leaf`` that the compiled SQL's parameters show."""
    if isinstance(leaf, QBool):
        return leaf, {}  # two values only: each its own shape
    if isinstance(leaf, QNumber):
        number: int | float = _STAND_IN - 2 * i
        if isinstance(leaf.value, float):
            number += 0.5
        return QNumber(number), {number: (i, "value")}
    mark = f"\x00q{i}"
    if isinstance(leaf, QDateTime):
        # whether the text as written differs from the stored form decides how many values are compared
        written = mark if leaf.text == leaf.value else mark + "w"
        return QDateTime(mark, written), {mark: (i, "value"), written: (i, "text")}
    return replace(leaf, value=mark), {mark: (i, "value")}


def _compile(cond: Cond, dialect: str, where: dict[Any, tuple[int, str]]) -> _Template | None:
    # compiled inside a SELECT on context_entities, so that its subqueries correlate to the entity row
    stmt: Any = select(literal_column("1")).select_from(entities).where(cond)
    compiled = stmt.compile(dialect=_DIALECTS[dialect], compile_kwargs={"render_postcompile": True})
    _, sep, condition = compiled.string.partition(f"\nFROM {entities.name} \nWHERE ")
    if not sep:
        return None
    slots: list[_Slot] = []
    constants = []
    names: set[str] = set()
    for bind, name in compiled.bind_names.items():
        value = bind.effective_value
        if bind.expanding:  # an IN list of constants (a user's values are bound one by one)
            if not isinstance(value, list | tuple) or any(_marked(v) for v in value):
                return None
            for k, v in enumerate(value, 1):
                names.add(f"{name}_{k}")
                constants.append(bindparam(f"{name}_{k}", v, type_=bind.type, unique=True))
            continue
        at = where.get(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else None
        if at is not None:
            slots.append(_Slot(name, at[0], at[1], bind.type))
        elif _marked(value):
            return None  # a stand-in changed on its way: its value would be kept as a constant
        else:
            constants.append(bindparam(name, value, type_=bind.type, unique=True))
        names.add(name)
    if set(_BIND.findall(condition)) != names:
        return None
    return _Template(text(f"({condition})").bindparams(*constants), tuple(slots))


def _marked(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value
