"""The condition language of policies (政策找人 · 免申即享), as pure code: a condition is a small expression
over named columns, parsed once into a tree, then evaluated either over whole columns at once (numpy: one
boolean array for the whole registry) or over one row (a dict), with the same answer (a property test holds
them equal).

The language is a subset of Python's expression syntax, so that a policy officer reads it as written::

    age >= 80 and contains(registeredAddress, "黄浦区")
    present(onlyChildCertificate) and (gender == "男" and age >= 60 or gender == "女" and age >= 55)
    1 <= insuredEmployees <= 100 and contributionState in ["正常缴费"]

- comparisons ``== != < <= > >=`` of a column with a literal (a chain ``1 <= x <= 100`` is both), ``in`` and
  ``not in`` a list of literals; order comparisons only on number columns;
- ``contains(col, "text")``, ``startswith(col, "text")`` on text columns; ``present(col)``;
- ``and``, ``or``, ``not`` and parentheses.

A missing value (None; NaN in a number column) makes every comparison, ``in``, ``not in`` and text test on it
false; ``not`` is plain negation, so ``not socialSecurity in ["城乡居民参保"]`` holds for someone whose
status is unknown. A parse error names the position and what is wrong (:class:`RuleError`).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Kind = Literal["number", "text"]
Scalar = float | int | str
MAX_TEXT = 400  # characters of a condition
MAX_NODES = 200

_ORDER = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_EQUAL = {ast.Eq: "==", ast.NotEq: "!="}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
TEXT_TESTS = ("contains", "startswith")


class RuleError(ValueError):
    """A condition that does not parse or names a column wrongly: the message says where and why."""


@dataclass(frozen=True)
class Cmp:
    column: str
    op: str  # one of OPS
    value: Scalar


@dataclass(frozen=True)
class In:
    column: str
    values: tuple[Scalar, ...]
    negate: bool = False  # ``not in``: still false on a missing value


@dataclass(frozen=True)
class Text:
    column: str
    test: str  # contains | startswith
    arg: str


@dataclass(frozen=True)
class Present:
    column: str


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Cmp | In | Text | Present | And | Or | Not


@dataclass(frozen=True)
class Column:
    """One column over the rows: its values and which are present (a missing value's slot holds a filler)."""

    kind: Kind
    values: npt.NDArray[Any]  # float64 for numbers, a unicode array for text
    present: npt.NDArray[np.bool_]


def columns_of(node: Node) -> tuple[str, ...]:
    """The columns a condition reads, in first-use order."""
    out: dict[str, None] = {}

    def walk(n: Node) -> None:
        if isinstance(n, And | Or):
            for i in n.items:
                walk(i)
        elif isinstance(n, Not):
            walk(n.item)
        else:
            out.setdefault(n.column, None)

    walk(node)
    return tuple(out)


# --- parsing --------------------------------------------------------------------------------------------------


def _where(node: ast.AST) -> str:
    return f"at column {getattr(node, 'col_offset', 0) + 1}"


def _literal(node: ast.AST) -> Scalar:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        negated = node.operand.value
        if isinstance(negated, int | float) and not isinstance(negated, bool):
            return -negated
    value = node.value if isinstance(node, ast.Constant) else None
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return value
    raise RuleError(f"{_where(node)}: expected a number or a quoted text")


def _column(node: ast.AST, kinds: Mapping[str, Kind]) -> str:
    if not isinstance(node, ast.Name):
        raise RuleError(f"{_where(node)}: expected a column name")
    if node.id not in kinds:
        raise RuleError(f"{_where(node)}: no column {node.id!r}; the columns are {', '.join(sorted(kinds))}")
    return node.id


def _check_value(column: str, kind: Kind, value: Scalar, node: ast.AST) -> Scalar:
    if kind == "number" and isinstance(value, str):
        raise RuleError(f"{_where(node)}: {column} is a number column, compared with the text {value!r}")
    if kind == "text" and not isinstance(value, str):
        raise RuleError(f"{_where(node)}: {column} is a text column, compared with {value!r}: quote it")
    return float(value) if kind == "number" else value


def _pair(left: ast.AST, op: ast.cmpop, right: ast.AST, kinds: Mapping[str, Kind]) -> Node:
    if isinstance(op, ast.In | ast.NotIn):
        column = _column(left, kinds)
        if not isinstance(right, ast.List | ast.Tuple) or not right.elts:
            raise RuleError(f'{_where(right)}: \'in\' takes a non-empty list of literals, e.g. ["a", "b"]')
        values = tuple(_check_value(column, kinds[column], _literal(e), e) for e in right.elts)
        return In(column, values, isinstance(op, ast.NotIn))
    symbol = _ORDER.get(type(op)) or _EQUAL.get(type(op))
    if symbol is None:
        raise RuleError(f"{_where(left)}: the comparisons are == != < <= > >= in and not in")
    if isinstance(left, ast.Name):
        column, literal_node = _column(left, kinds), right
    elif isinstance(right, ast.Name):
        column, literal_node, symbol = _column(right, kinds), left, _FLIP[symbol]
    else:
        raise RuleError(f"{_where(left)}: a comparison is of a column with a literal")
    if symbol in ("<", "<=", ">", ">=") and kinds[column] != "number":
        raise RuleError(f"{_where(left)}: {column} is a text column: compare it with == != in, or contains()")
    return Cmp(column, symbol, _check_value(column, kinds[column], _literal(literal_node), literal_node))


def _call(node: ast.Call, kinds: Mapping[str, Kind]) -> Node:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if node.keywords or name not in (*TEXT_TESTS, "present"):
        raise RuleError(f"{_where(node)}: the functions are contains(col, \"text\"), startswith(col, \"text\") "
                        "and present(col)")  # fmt: skip
    if name == "present":
        if len(node.args) != 1:
            raise RuleError(f"{_where(node)}: present takes one column")
        return Present(_column(node.args[0], kinds))
    if len(node.args) != 2:
        raise RuleError(f"{_where(node)}: {name} takes a column and a quoted text")
    column, arg = _column(node.args[0], kinds), _literal(node.args[1])
    if kinds[column] != "text" or not isinstance(arg, str):
        raise RuleError(f"{_where(node)}: {name} tests a text column against a quoted text")
    return Text(column, str(name), arg)


def _node(node: ast.AST, kinds: Mapping[str, Kind]) -> Node:
    if isinstance(node, ast.BoolOp):
        items = tuple(_node(v, kinds) for v in node.values)
        return And(items) if isinstance(node.op, ast.And) else Or(items)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return Not(_node(node.operand, kinds))
    if isinstance(node, ast.Compare):
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts.append(_pair(left, op, right, kinds))
            left = right
        return parts[0] if len(parts) == 1 else And(tuple(parts))
    if isinstance(node, ast.Call):
        return _call(node, kinds)
    if isinstance(node, ast.Name):
        raise RuleError(f"{_where(node)}: a bare column {node.id!r} is no test: write present({node.id}) or compare it")
    raise RuleError(f"{_where(node)}: expected a comparison, contains/startswith/present, and, or, not")


def parse(text: str, kinds: Mapping[str, Kind]) -> Node:
    """The condition ``text`` over the columns ``kinds`` (name -> number | text) as a tree; RuleError naming
    the position and the problem when it does not parse or misuses a column."""
    if not text.strip() or len(text) > MAX_TEXT:
        raise RuleError(f"a condition is 1 to {MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise RuleError(f"at column {exc.offset or 0}: {exc.msg}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise RuleError(f"a condition is at most {MAX_NODES} parts: split the policy")
    return _node(tree.body, kinds)


def unparse(node: Node) -> str:
    """The condition written back in the language (parse(unparse(n)) == n for a tree parse made)."""
    if isinstance(node, Cmp):
        return f"{node.column} {node.op} {node.value!r}"
    if isinstance(node, In):
        return f"{node.column} {'not in' if node.negate else 'in'} [{', '.join(repr(v) for v in node.values)}]"
    if isinstance(node, Text):
        return f"{node.test}({node.column}, {node.arg!r})"
    if isinstance(node, Present):
        return f"present({node.column})"
    if isinstance(node, Not):
        return f"not ({unparse(node.item)})"
    joiner = " and " if isinstance(node, And) else " or "
    return joiner.join(f"({unparse(i)})" for i in node.items)


# --- evaluating: whole columns ----------------------------------------------------------------------------------


def _text_test(col: Column, test: str, arg: str) -> npt.NDArray[np.bool_]:
    found = np.strings.find(col.values, arg)
    hit = found >= 0 if test == "contains" else found == 0
    return col.present & hit


def evaluate(node: Node, columns: Mapping[str, Column], rows: int) -> npt.NDArray[np.bool_]:
    """The rows for which the condition holds, over whole columns at once (one boolean array of ``rows``)."""
    if isinstance(node, Cmp):
        col = columns[node.column]
        return col.present & OPS[node.op](col.values, node.value)
    if isinstance(node, In):
        col = columns[node.column]
        inside = np.isin(col.values, np.asarray(node.values, dtype=col.values.dtype))
        return col.present & (~inside if node.negate else inside)
    if isinstance(node, Text):
        return _text_test(columns[node.column], node.test, node.arg)
    if isinstance(node, Present):
        return columns[node.column].present.copy()
    if isinstance(node, Not):
        return ~evaluate(node.item, columns, rows)
    out = np.ones(rows, dtype=bool) if isinstance(node, And) else np.zeros(rows, dtype=bool)
    for item in node.items:
        (np.logical_and if isinstance(node, And) else np.logical_or)(out, evaluate(item, columns, rows), out=out)
    return out


# --- evaluating: one row -----------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def holds(node: Node, row: Mapping[str, Any]) -> bool:
    """Whether the condition holds for one row (column -> value, None when missing): the reference the
    vectorised :func:`evaluate` is tested against."""
    if isinstance(node, And):
        return all(holds(i, row) for i in node.items)
    if isinstance(node, Or):
        return any(holds(i, row) for i in node.items)
    if isinstance(node, Not):
        return not holds(node.item, row)
    value = row.get(node.column)
    if isinstance(node, Present):
        return not _missing(value)
    if _missing(value):
        return False
    if isinstance(node, Cmp):
        return bool(OPS[node.op](value, node.value))
    if isinstance(node, In):
        return (value in node.values) != node.negate
    text = str(value)
    return (node.arg in text) if node.test == "contains" else text.startswith(node.arg)


def make_column(kind: Kind, values: Sequence[Any]) -> Column:
    """A column from a row-at-a-time list (None: missing): numbers as float64 (NaN where missing), text as a
    unicode array ("" where missing)."""
    present = np.fromiter((not _missing(v) for v in values), dtype=bool, count=len(values))
    if kind == "number":
        data = np.fromiter((float(v) if not _missing(v) else np.nan for v in values), dtype=np.float64,
                           count=len(values))  # fmt: skip
    else:
        data = np.array(["" if _missing(v) else str(v) for v in values], dtype=np.str_)
        if data.dtype.itemsize == 0:  # an empty list, or all missing: one character wide keeps isin simple
            data = data.astype("<U1")
    return Column(kind, data, present)
