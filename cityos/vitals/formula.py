"""Formulas of derived indicators: arithmetic over other indicators and named constants.

A formula is parsed once with Python's ``ast`` and only a small grammar is accepted: numbers,
names, ``+ - * /``, unary minus, parentheses and the functions ``min``, ``max`` and ``abs``. Nothing
else is evaluated, so a definition cannot run code. A value that cannot be computed (a missing input,
a division by zero) is ``None``, never an exception.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cityos.vitals.errors import InvalidFormula

MAX_LENGTH = 500
_FUNCTIONS: dict[str, Callable[..., float]] = {"min": min, "max": max, "abs": abs}
_BINARY: dict[type, Callable[[float, float], float | None]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b if b != 0 else None,
}


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expr
    names: frozenset[str]  # the indicator ids and constants it reads

    def evaluate(self, values: Mapping[str, float | None]) -> float | None:
        """The formula's value, or None when an input is missing or it divides by zero."""
        result = _eval(self.tree, values)
        return result if result is not None and math.isfinite(result) else None


def parse(text: str) -> Formula:
    """Parse and check a formula; raises InvalidFormula saying what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidFormula("the formula is empty")
    if len(text) > MAX_LENGTH:
        raise InvalidFormula(f"the formula is {len(text)} characters long: at most {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise InvalidFormula(f"the formula does not parse at column {exc.offset}: {exc.msg}") from None
    names: set[str] = set()
    _check(tree, names)
    return Formula(text, tree, frozenset(names))


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise InvalidFormula(f"{node.value!r} is not a number")
    elif isinstance(node, ast.Name):
        names.add(node.id)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise InvalidFormula(f"operator {ast.unparse(node)!r} is not allowed: use + - * /")
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd):
            raise InvalidFormula(f"operator in {ast.unparse(node)!r} is not allowed: use + - * /")
        _check(node.operand, names)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            raise InvalidFormula(f"{ast.unparse(node.func)!r} is not a function: use min, max or abs")
        one = node.func.id == "abs"
        if node.keywords or (len(node.args) != 1 if one else len(node.args) < 2):
            raise InvalidFormula(f"{ast.unparse(node)!r}: min and max take two or more values, abs one")
        for arg in node.args:
            _check(arg, names)
    else:
        raise InvalidFormula(f"{ast.unparse(node)!r} is not allowed in a formula: use numbers, names, + - * /")


def _eval(node: ast.expr, values: Mapping[str, float | None]) -> float | None:
    if isinstance(node, ast.Constant):
        return float(node.value)  # type: ignore[arg-type]  # the parser admits numeric constants only
    if isinstance(node, ast.Name):
        v = values.get(node.id)
        return None if v is None else float(v)
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, values), _eval(node.right, values)
        return None if a is None or b is None else _BINARY[type(node.op)](a, b)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    args = [_eval(a, values) for a in node.args]
    if any(a is None for a in args):
        return None
    return float(_FUNCTIONS[node.func.id](*args))
