"""SQLite's group commit: when a batch cannot even begin (the database is locked by another connection
past the busy timeout), every caller of the batch gets the error instead of waiting for good."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import event, text

from cityos.store.engine import Database


def test_a_batch_that_cannot_begin_fails_its_callers_instead_of_leaving_them_waiting(sqlite_db: Database) -> None:
    db = Database(sqlite_db.url)  # an engine of its own, whose connections give up on a lock at once

    @event.listens_for(db.engine, "connect")
    def short_busy_timeout(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    other = sqlite3.connect(sqlite_db.url.split("///", 1)[-1], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the database's write lock
    answers: list[BaseException | int] = []

    def caller() -> None:
        try:
            answers.append(db.run_write(lambda conn: conn.execute(text("SELECT 1")).scalar_one()))
        except BaseException as exc:
            answers.append(exc)

    try:
        t = threading.Thread(target=caller, daemon=True)
        t.start()
        t.join(20)  # the bound of a hang, not a timing: the answer comes at once
        assert not t.is_alive(), "the caller still waits for a batch that never ran"
        assert len(answers) == 1 and isinstance(answers[0], Exception) and "locked" in str(answers[0])
        other.execute("ROLLBACK")
        assert db.run_write(lambda conn: conn.execute(text("SELECT 1")).scalar_one()) == 1  # the writer goes on
    finally:
        other.close()
        db.dispose()
