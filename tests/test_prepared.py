"""Prepared statements (cityos.store.prepared): what they store and read is what SQLAlchemy's own insert and
select store and read, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, select, text

from cityos.cases.tables import cases, events
from cityos.store import Database
from cityos.store.prepared import Prepared, RowInsert


def _event(case_id: str, seq: int, data: Any) -> dict[str, Any]:
    return {"tenant": "t", "case_id": case_id, "seq": seq, "at": "2026-11-21T10:00:00+08:00", "action": "report",
            "actor": "a", "role": "operator", "reason": None, "data": data, "from_state": None,
            "to_state": "reported"}  # fmt: skip


def _raw(db: Database, table: str, case_id: str) -> list[tuple[Any, ...]]:
    """The rows as the database holds them (JSON as text, NULL as None), in sequence order."""
    cast = "data::text" if db.dialect == "postgresql" else "data"
    q = f"SELECT seq, {cast}, reason, data IS NULL FROM {table} WHERE case_id = :c ORDER BY seq"
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(text(q), {"c": case_id})]


def test_row_insert_stores_what_sqlalchemy_stores(db: Database) -> None:
    docs = [{"text": "井盖 missing", "n": 1.5, "list": [1, None]}, [], None, {"nested": {"a": "b"}}]
    ours = [_event("OURS", i + 1, d) for i, d in enumerate(docs)]
    theirs = [_event("THEIRS", i + 1, d) for i, d in enumerate(docs)]
    with db.begin() as conn:
        RowInsert(events)(conn, ours)
        conn.execute(insert(events), theirs)
    assert _raw(db, "cases_events", "OURS") == _raw(db, "cases_events", "THEIRS")
    with db.connect() as conn:
        back = conn.execute(select(events.c.data).where(events.c.case_id == "OURS").order_by(events.c.seq))
        assert [r[0] for r in back] == docs


def test_row_insert_in_chunks_and_missing_keys_are_null(db: Database) -> None:
    rows = [_event("MANY", i + 1, {"i": i}) for i in range(7)]
    del rows[3]["reason"]  # a missing key: SQL NULL (a column left out of the INSERT)
    with db.begin() as conn:
        RowInsert(events, max_rows=3)(conn, rows)  # three statements: 3, 3 and 1 rows
    with db.connect() as conn:
        got = conn.execute(select(events.c.seq, events.c.data, events.c.reason).where(events.c.case_id == "MANY"))
        assert sorted(tuple(r) for r in got) == [(i + 1, {"i": i}, None) for i in range(7)]


def test_row_insert_refuses_tables_with_defaults() -> None:
    counted = Table("t", MetaData(), Column("id", String, primary_key=True), Column("n", Integer, default=0))
    with pytest.raises(ValueError, match="defaults"):
        RowInsert(counted)


def test_prepared_select_reads_what_the_query_reads(db: Database) -> None:
    with db.begin() as conn:
        RowInsert(events)(conn, [_event("SEL", i + 1, {"i": i}) for i in range(5)])
    q = select(events.c.seq, events.c.action).where(
        events.c.case_id == bindparam("case_id"),
        events.c.seq.in_([bindparam("s0"), bindparam("s1")]),
        events.c.seq >= bindparam("least"),
    )
    params = {"case_id": "SEL", "s0": 2, "s1": 4, "least": 3}
    with db.connect() as conn:
        ours = [dict(r) for r in Prepared(q).execute(conn, params).mappings()]
        theirs = [dict(r) for r in conn.execute(q, params).mappings()]
    assert ours == theirs == [{"seq": 4, "action": "report"}]
    with pytest.raises(ValueError, match="JSON"):
        Prepared(select(events.c.data))  # rows come back as the driver gives them: a document would stay text


def test_prepared_refuses_expanding_parameters(db: Database) -> None:
    q = select(cases.c.id).where(cases.c.state.in_(bindparam("states", expanding=True)))
    with db.connect() as conn, pytest.raises(ValueError, match="expanding"):
        Prepared(q).execute(conn, {"states": ["reported"]})
