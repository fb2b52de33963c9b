"""q evaluated in Python on the stored attribute form, with the semantics of ``cityos.context.sqlq``: a
term holds when any instance holds; numbers only compare with numbers, strings (dates, times, URIs) with
strings, booleans with booleans; ``!=`` and ``!~=`` need a present value. Subscriptions and the vital
signs engine test entities with it; the parser is :mod:`cityos.context.qlang`."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from cityos.context.entity import live_instances
from cityos.context.qlang import (
    QAnd,
    QBool,
    QDateTime,
    QExpr,
    QList,
    QNumber,
    QOr,
    QRange,
    QScalar,
    QTerm,
    TAnd,
    TName,
    TypeExpr,
)
from cityos.context.sqlq import LANGUAGE_WILDCARD, LITERAL_MEMBERS, linked_unsupported
from cityos.core.patterns import compile_pattern

Attrs = dict[str, list[dict[str, Any]]]


_MISSING = object()


def _get(inst: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(inst, dict) or key not in inst:
            return _MISSING
        inst = inst[key]
    return inst


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _literal(value: QScalar, *, equality: bool) -> tuple[str, list[Any]]:
    if isinstance(value, QNumber):
        return "number", [value.value]
    if isinstance(value, QBool):
        return "bool", [value.value]
    if isinstance(value, QDateTime):
        # Stored timestamps are normalised; a date-time stored as a plain value is as written.
        return "string", [value.value, value.text] if equality else [value.value]
    return "string", [value.value]


def _of_kind(v: Any, kind: str) -> bool:
    if kind == "number":
        return _is_number(v)
    if kind == "bool":
        return isinstance(v, bool)
    return isinstance(v, str)


def _equal(v: Any, value: Any) -> bool:
    if isinstance(value, QRange):
        kind, (low, *_) = _literal(value.low, equality=False)
        _, (high, *_) = _literal(value.high, equality=False)
        return _of_kind(v, kind) and low <= v <= high
    items = value.items if isinstance(value, QList) else (value,)
    for item in items:
        kind, values = _literal(item, equality=True)
        if _of_kind(v, kind) and any(v == x for x in values):
            return True
    return False


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    ">": lambda x, v: x > v,
    ">=": lambda x, v: x >= v,
    "<": lambda x, v: x < v,
    "<=": lambda x, v: x <= v,
}


def _term_holds(term: QTerm, attrs: Attrs, expand: Callable[[str], str], now: str | None) -> bool:
    path = term.path
    if path.linked is not None:
        raise linked_unsupported(path.attr)
    instances = attrs.get(expand(path.attr)) or []
    if now is not None:
        instances = live_instances(instances, now)
    base = tuple(s if s in LITERAL_MEMBERS else expand(s) for s in path.sub)
    on_member = bool(base) and base[-1] in LITERAL_MEMBERS
    obj_path: tuple[str, ...] | None = None
    wildcard = path.compound == LANGUAGE_WILDCARD and not on_member
    if path.compound and on_member:
        val_path = (*base, *path.compound)
    elif wildcard:  # attr[*]: any language of a LanguageProperty
        val_path = (*base, "languageMap")
    elif path.compound:  # a key of a compound value, or a language of a LanguageProperty
        val_path, obj_path = (*base, "value", *path.compound), (*base, "languageMap", *path.compound)
    elif on_member:
        val_path = base
    else:
        val_path, obj_path = (*base, "value"), (*base, "object")

    if term.op is None:
        if not base and not path.compound:
            found = bool(instances)
        else:
            keys = [val_path, obj_path] if path.compound and obj_path else [base]
            found = any(_get(i, k) is not _MISSING for i in instances for k in keys)
        return not found if term.negated_exists else found

    def compared(inst: dict[str, Any]) -> Any:
        v = _get(inst, val_path)
        # A Relationship has an object (a URI string) where a Property has a value; it is never ordered
        # (NGSI-LD v1.8, clause 4.9: an ordering operator on a Relationship does not match).
        if v is _MISSING and obj_path is not None and term.op not in _ORDER:
            v = _get(inst, obj_path)
        return v

    op, value = term.op, term.value

    def holds(v: Any) -> bool:
        if op in ("==", "!="):
            return _equal(v, value)
        if op in ("~=", "!~="):
            return isinstance(v, str) and compile_pattern(getattr(value, "value", "")).search(v) is not None
        if op in _ORDER and value is not None and not isinstance(value, QList | QRange):
            kind, (x, *_) = _literal(value, equality=False)
            return _of_kind(v, kind) and _ORDER[op](v, x)
        return False

    for inst in instances:
        v = compared(inst)
        if v is _MISSING:
            continue
        # the value itself, and the elements of an array (the languages of a languageMap for attr[*]): the
        # term holds when one of them does; "not equal" when none of them is equal (NGSI-LD v1.9, clause 4.9)
        if wildcard:
            candidates = list(v.values()) if isinstance(v, dict) else []
        else:
            candidates = [v, *v] if isinstance(v, list) else [v]
        hit = any(holds(c) for c in candidates)
        if hit != op.startswith("!"):
            return True
    return False


def eval_q(expr: QExpr, attrs: Attrs, expand: Callable[[str], str], now: str | None = None) -> bool:
    """Whether an entity's stored attributes satisfy a parsed q expression; with ``now`` (stored form), the
    instances whose expiresAt has passed are not there (NGSI-LD 4.22), as in :func:`sqlq.compile_q`."""
    if isinstance(expr, QAnd):
        return all(eval_q(e, attrs, expand, now) for e in expr.items)
    if isinstance(expr, QOr):
        return any(eval_q(e, attrs, expand, now) for e in expr.items)
    return _term_holds(expr, attrs, expand, now)


def type_matches(expr: TypeExpr, types: Collection[str], expand: Callable[[str], str]) -> bool:
    """Whether an entity of the (expanded) ``types`` satisfies an entity type expression (NGSI-LD v1.8,
    clause 4.17), as :func:`cityos.context.sqlq.compile_type_expr` decides it in SQL."""
    if isinstance(expr, TName):
        return expand(expr.name) in types
    if isinstance(expr, TAnd):
        return all(type_matches(e, types, expand) for e in expr.items)
    return any(type_matches(e, types, expand) for e in expr.items)
