"""Statements compiled once per dialect and run through ``exec_driver_sql``: the hot write paths' way past
SQLAlchemy's per-execution work (statement cache keys, parameter processing by name, expanding IN lists).

:class:`Prepared` holds one Core statement's SQL text per dialect, its bind parameters in the compiled
order and their types' bind processors; a call hands the driver the processed values. :class:`RowInsert`
inserts one or more whole rows of a table in one INSERT (``VALUES (...), (...)``), prepared per number of
rows. What is stored is what ``conn.execute(insert(table), rows)`` stores (the same SQL, casts and
processors: JSON documents serialised as the engine serialises them), and the engine's events still see
every statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Float, Integer, String, Table, bindparam, insert
from sqlalchemy.engine import CursorResult, Dialect

_Processor = Callable[[Any], Any] | None
_Compiled = tuple[str, list[str], list[_Processor], bool]  # SQL, bind names in order, processors, positional
MISSING = object()  # a value not given: SQL NULL, past the type's processor


_PLAIN = (String, Integer, Float)  # what the drivers give back as Python values already (text, numbers)


class Prepared:
    """A Core statement compiled once per dialect; run with a dict of its bind parameters' values. Not for
    statements with expanding parameters (write an IN list of a fixed length instead, or literally), and a
    query may read plain columns only (text and numbers): rows come back as the driver gives them, without
    SQLAlchemy's result processing (a JSON document would stay text)."""

    def __init__(self, statement: Any) -> None:
        selected = getattr(statement, "selected_columns", ())
        if any(not isinstance(c.type, _PLAIN) for c in selected):
            raise ValueError("a prepared query reads text and number columns only (no JSON documents)")
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        got = self._by_dialect.get(dialect.name)
        if got is None:
            c = self.statement.compile(dialect=dialect)
            if c.literal_execute_params or c.post_compile_params:
                raise ValueError("a prepared statement cannot have expanding parameters")
            names = list(c.positiontup) if c.positional and c.positiontup else list(c.binds)
            procs = [c.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
            got = self._by_dialect[dialect.name] = (c.string, names, procs, bool(c.positional))
        return got

    def execute(self, conn: Connection, params: dict[str, Any]) -> CursorResult[Any]:
        """The statement's result (``.mappings()``, ``.rowcount``)."""
        names = self._compiled(conn.dialect)[1]
        return self.run(conn, [params[n] for n in names])

    def run(self, conn: Connection, values: list[Any]) -> CursorResult[Any]:
        """Run with the values of the bind parameters in :meth:`names` order (``values`` is changed)."""
        sql, names, procs, positional = self._compiled(conn.dialect)
        for i, p in enumerate(procs):
            v = values[i]
            if v is MISSING:
                values[i] = None
            elif p is not None:
                values[i] = p(v)
        if positional:
            return conn.exec_driver_sql(sql, tuple(values))
        return conn.exec_driver_sql(sql, dict(zip(names, values, strict=True)))

    def names(self, dialect: Dialect) -> list[str]:
        """The bind parameters' names in the order :meth:`run` takes their values."""
        return self._compiled(dialect)[1]


class RowInsert:
    """INSERT of whole rows of ``table`` (every column), one statement for up to ``max_rows`` rows at a time.
    Rows are dicts keyed by column name. A missing key is SQL NULL, as leaving the column out of the INSERT
    would make it (the table may have no column defaults); a None goes through the column's type, as
    SQLAlchemy sends it (a JSON document's None is JSON ``null``)."""

    def __init__(self, table: Table, max_rows: int = 16) -> None:
        if any(c.default is not None or c.server_default is not None for c in table.columns):
            raise ValueError(f"{table.name} has column defaults: RowInsert writes every column")
        self.table = table
        self.names = [c.name for c in table.columns]
        self.max_rows = max_rows
        self._by_rows: dict[int, Prepared] = {}
        self._orders: dict[tuple[str, int], list[int] | None] = {}

    def _prepared(self, n: int) -> Prepared:
        got = self._by_rows.get(n)
        if got is None:
            values = [{c: bindparam(f"{c}_{i}", type_=self.table.c[c].type) for c in self.names} for i in range(n)]
            got = self._by_rows[n] = Prepared(insert(self.table).values(values))
        return got

    def __call__(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        names = self.names
        for first in range(0, len(rows), self.max_rows):
            chunk = rows[first : first + self.max_rows]
            prepared = self._prepared(len(chunk))
            values = [row.get(c, MISSING) for row in chunk for c in names]  # row by row, each in column order
            order = self._order(conn.dialect, len(chunk))
            prepared.run(conn, values if order is None else [values[i] for i in order])

    def _order(self, dialect: Dialect, n: int) -> list[int] | None:
        """Where the statement's parameters are in the rows' values; None when in the same order."""
        key = (dialect.name, n)
        if key not in self._orders:
            natural = {f"{c}_{i}": k for k, (i, c) in enumerate((i, c) for i in range(n) for c in self.names)}
            order = [natural[name] for name in self._prepared(n).names(dialect)]
            self._orders[key] = None if order == list(range(len(order))) else order
        return self._orders[key]
