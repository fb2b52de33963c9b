"""SQLite's group commit: when a batch cannot even begin (the database is locked by another connection
past the busy timeout), every caller of the batch gets the error instead of waiting for good. A lone caller runs
its job in its own thread, committed when run_write returns; callers that come meanwhile share one commit."""

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


def _commits(db: Database) -> list[int]:
    seen: list[int] = []
    event.listen(db.engine, "commit", lambda conn: seen.append(1))
    return seen


def test_a_lone_caller_runs_its_job_in_its_own_thread_committed_when_it_returns(sqlite_db: Database) -> None:
    with sqlite_db.begin() as conn:
        conn.execute(text("CREATE TABLE lone (n INTEGER)"))
    commits = _commits(sqlite_db)
    ran_in = sqlite_db.run_write(lambda conn: (conn.execute(text("INSERT INTO lone VALUES (1)")),
                                               threading.current_thread())[1])  # fmt: skip
    assert ran_in is threading.current_thread() and len(commits) == 1
    other = Database(sqlite_db.url)  # another engine (another process's view): the row is committed
    try:
        with other.connect() as conn:
            assert conn.execute(text("SELECT n FROM lone")).scalars().all() == [1]
    finally:
        other.dispose()


def test_a_job_run_by_its_caller_cannot_write_again_inside_itself(sqlite_db: Database) -> None:
    def nested(conn: Any) -> None:
        sqlite_db.run_write(lambda inner: None)

    try:
        sqlite_db.run_write(nested)
    except RuntimeError as exc:
        assert "inside a write job" in str(exc)
    else:
        raise AssertionError("a nested run_write was let through (it would wait for itself)")


def test_a_failing_job_of_its_own_caller_writes_nothing_and_the_writer_goes_on(sqlite_db: Database) -> None:
    with sqlite_db.begin() as conn:
        conn.execute(text("CREATE TABLE failing (n INTEGER)"))

    def fails(conn: Any) -> None:
        conn.execute(text("INSERT INTO failing VALUES (1)"))
        raise ValueError("refused")

    try:
        sqlite_db.run_write(fails)
    except ValueError as exc:
        assert str(exc) == "refused"
    sqlite_db.run_write(lambda conn: conn.execute(text("INSERT INTO failing VALUES (2)")))
    with sqlite_db.connect() as conn:
        assert conn.execute(text("SELECT n FROM failing")).scalars().all() == [2]


def test_callers_that_come_while_a_job_runs_share_one_commit(sqlite_db: Database) -> None:
    with sqlite_db.begin() as conn:
        conn.execute(text("CREATE TABLE shared (n INTEGER)"))
    writer = sqlite_db._writer
    assert writer is not None
    commits = _commits(sqlite_db)
    release, started = threading.Event(), threading.Event()
    done: list[int] = []

    def first(conn: Any) -> int:
        started.set()
        release.wait(20)  # the bound of a hang
        conn.execute(text("INSERT INTO shared VALUES (0)"))
        return 0

    def caller(job: Any) -> None:
        done.append(sqlite_db.run_write(job))

    def insert(n: int) -> Any:
        return lambda conn: (conn.execute(text("INSERT INTO shared VALUES (:n)"), {"n": n}), n)[1]

    threads = [threading.Thread(target=caller, args=(first,), daemon=True)]
    threads[0].start()
    assert started.wait(20)
    threads += [threading.Thread(target=caller, args=(insert(n),), daemon=True) for n in range(1, 6)]
    for t in threads[1:]:
        t.start()
    for _ in range(2000):  # until the five wait: one taken by the writer thread, four queued behind it
        if writer._claimed and writer._queue.qsize() == 4:
            break
        threading.Event().wait(0.01)
    assert writer._claimed and writer._queue.qsize() == 4
    release.set()
    for t in threads:
        t.join(20)
    assert sorted(done) == [0, 1, 2, 3, 4, 5]
    assert len(commits) == 2  # the first caller's own, then the five together
    with sqlite_db.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM shared")).scalars()) == [0, 1, 2, 3, 4, 5]
