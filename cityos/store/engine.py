"""The database engine: SQLite (WAL) on one machine, PostgreSQL in production, one interface."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import JSON, BigInteger, Integer, MetaData, create_engine, event, exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from cityos.core.parts import Parts
from cityos.core.patterns import compile_pattern

T = TypeVar("T")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# JSON documents: SQLite JSON1 text on SQLite, JSONB on PostgreSQL.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")
# Surrogate keys: 64-bit on PostgreSQL; SQLite's INTEGER PRIMARY KEY is its rowid (64-bit already).
PK = BigInteger().with_variant(Integer(), "sqlite")
# A pooled PostgreSQL connection is pinged at checkout when it lay idle in the pool longer than this: one back
# within it was in use a moment ago (pinging it cost a round trip on every checkout, a quarter of a one-statement
# write's). A server that goes away inside the window fails one statement, which invalidates the whole pool.
PING_IDLE_S = 1.0
# PostgreSQL: the threads that run writes started ahead of their callers (submit_write): a governed read's audit
# append runs there while the read builds its page; each holds a pooled connection only while a write runs
WRITE_THREADS = 4


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _loads(value: Any) -> Any:
    # SQLite gives a JSON column NUMERIC affinity: a document that is a bare number comes back as that number
    if isinstance(value, (int, float)):
        return value
    return orjson.loads(value)


def _regexp(pattern: str | None, value: Any) -> bool:
    # SQLite calls regexp(pattern, value) for "value REGEXP pattern".
    if pattern is None or value is None or not isinstance(value, str):
        return False
    # RE2, linear in the value: a pattern from a request cannot stall the database's thread (and with it
    # every request). Callers check patterns first, so UnsupportedPattern here is a caller's bug.
    return compile_pattern(pattern).search(value) is not None


class Database:
    """An engine plus the facts the rest of the code asks about it (dialect, URL), and the typed parts
    packages keep about this database (recently seen tokens, known tenants), which go with it."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.parts = Parts()
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "json_serializer": _dumps, "json_deserializer": _loads}
        self._lock_path: str | None = None  # SQLite: the file whose lock orders writers across processes
        self._lock_fd: int | None = None
        self._lock_pid = 0  # the process that opened it: a forked child opens its own (a shared one would not exclude)
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self._lock_path = f"{path.split('?', 1)[0]}-writer"
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20)  # pinged when idle a while: see _ping_if_idle
        self.engine: Engine = create_engine(url, **kwargs)
        if not self.is_sqlite:
            event.listen(self.engine, "checkin", _note_idle)
            event.listen(self.engine, "checkout", self._ping_if_idle)
        self._writer = None
        if self.is_sqlite:
            from cityos.store.writer import GroupCommitWriter

            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
            self._writer = GroupCommitWriter(self)
        # SQLite has one writer at a time: serialising writers here avoids busy-retries and lost
        # read-modify-write races; PostgreSQL writers lock the rows they change instead.
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._growth_lock = threading.Lock()
        self._grown: dict[tuple[str, ...], int] = {}
        self._analysed_rows: dict[tuple[str, ...], float] = {}
        # run_one's connection on PostgreSQL, kept between writes (a pool checkout and return, and switching the
        # connection to autocommit and back, cost more CPU than the write's statement); one thread at a time
        self._one_lock = threading.Lock()
        self._one_conn: Connection | None = None
        self._one_used = 0.0
        self._submitted: ThreadPoolExecutor | None = None  # submit_write's threads on PostgreSQL, made on first use
        self._submit_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction for read-modify-write work: one at a time on SQLite."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self.immediate() as conn:
            yield conn

    @contextmanager
    def immediate(self) -> Iterator[Connection]:
        """SQLite: a write transaction that takes the database's write lock at BEGIN (BEGIN IMMEDIATE).

        A deferred transaction that reads and then writes can fail when another process wrote in
        between; taking the lock first makes other writers wait (busy_timeout) instead.
        """
        assert self._write_lock is not None
        with self._write_lock, self._writer_turn(), self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """SQLite: wait for the other processes' write transactions on this file through a file lock.

        SQLite's own busy wait polls, sleeping 1, 2, 5 … up to 100 ms between tries, so a process waiting
        for the write lock while another writes often (an API and a notification worker on one database)
        waited tens to hundreds of milliseconds past its release, or got it only when it happened to look
        in a gap. The kernel wakes a process waiting on the lock file as soon as it is released.
        """
        if self._lock_path is None:
            yield
            return
        if self._lock_fd is None or self._lock_pid != os.getpid():  # opened on first write
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._lock_pid = os.getpid()
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def run_write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in a write transaction and return its result once committed.

        On SQLite the job joins the writer thread's next group commit, or runs in this thread when the writer is
        idle.
        """
        if self._writer is None:
            with self.engine.begin() as conn:
                return fn(conn)
        if self._writer.in_writer_thread():
            raise RuntimeError("run_write called from inside a write job: nest the work in the job instead")
        return self._writer.run(fn)

    def run_one(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)``, which sends exactly one statement, as a transaction of its own; its result once
        committed. On PostgreSQL the statement runs in autocommit mode: the server commits it before it answers
        (the WAL flushed, with synchronous_commit on), one round trip instead of three (BEGIN, the statement,
        COMMIT); a single statement, data-modifying WITHs included, is atomic. A second statement would commit
        apart from the first: use :meth:`run_write` for more. One caller at a time uses a connection kept for
        these writes, the others pooled ones. On SQLite the same as :meth:`run_write`."""
        if self._writer is not None:
            return self.run_write(fn)
        if not self._one_lock.acquire(blocking=False):  # another thread has the held connection: a pooled one
            with self.engine.connect() as conn:
                return fn(conn.execution_options(isolation_level="AUTOCOMMIT"))
        try:
            conn = self._held_connection()
            try:
                result = fn(conn)
                conn.commit()  # ends SQLAlchemy's own transaction: nothing is sent, the server committed already
                self._one_used = time.monotonic()
                return result
            except BaseException:
                if conn.invalidated:  # the connection broke: the next write takes another
                    self._drop_held()
                else:
                    conn.rollback()
                raise
        finally:
            self._one_lock.release()

    def _held_connection(self) -> Connection:
        """The connection run_one keeps between writes (in autocommit mode), pinged when it lay idle longer than
        PING_IDLE_S as the pool pings its own, and replaced when it is dead. Called with _one_lock held."""
        conn = self._one_conn
        if conn is not None and time.monotonic() - self._one_used > PING_IDLE_S and not self._alive(conn):
            conn.invalidate()
            self._drop_held()
            conn = None
        if conn is None:
            conn = self._one_conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return conn

    def _alive(self, conn: Connection) -> bool:
        dbapi_conn = conn.connection.dbapi_connection
        try:
            return dbapi_conn is not None and self.engine.dialect.do_ping(dbapi_conn)
        except self.engine.dialect.loaded_dbapi.Error:
            return False

    def _drop_held(self) -> None:
        if self._one_conn is not None:
            self._one_conn.close()
            self._one_conn = None

    def submit_write(self, fn: Callable[[Connection], T]) -> Future[T]:
        """:meth:`run_write` started now in another thread: the future resolves once the transaction committed
        (or holds its error). The caller goes on meanwhile and must wait on the future before it acts on the
        write. On SQLite the writer thread's next group commit; on PostgreSQL one of ``WRITE_THREADS`` threads,
        each running the job in a transaction of its own on a pooled connection."""
        if self._writer is not None:
            if self._writer.in_writer_thread():  # it would wait for the job it is part of
                raise RuntimeError("submit_write called from inside a write job: nest the work in the job instead")
            return self._writer.submit(fn)
        with self._submit_lock:
            if self._submitted is None:
                self._submitted = ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="cityos-write")
            try:
                return self._submitted.submit(self.run_write, fn)
            except RuntimeError:  # disposed meanwhile: the write runs here, as run_write would
                pass
        done: Future[T] = Future()
        try:
            done.set_result(self.run_write(fn))
        except BaseException as exc:
            done.set_exception(exc)
        return done

    async def run_write_async(self, fn: Callable[[Connection], T]) -> T:
        """The same as run_write, awaited without holding a thread of the pool on SQLite."""
        if self._writer is None:
            from starlette.concurrency import run_in_threadpool

            return await run_in_threadpool(self.run_write, fn)
        import asyncio

        return await asyncio.wrap_future(self._writer.submit(fn))

    @property
    def locks_rows(self) -> bool:
        """Whether readers that intend to write must use SELECT ... FOR UPDATE."""
        return self._write_lock is None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def note_growth(self, tables: tuple[str, ...], rows: int) -> None:
        """Refresh PostgreSQL's statistics of tables that grew by a fifth since they were last analysed.

        Autovacuum refreshes statistics about once a minute. During a bulk load into an empty table
        the planner keeps believing the table is tiny and turns every keyed lookup into a
        sequential scan, so each batch gets slower than the one before. Call after a commit.
        """
        if self.is_sqlite or rows <= 0:
            return
        with self._growth_lock:
            if tables not in self._analysed_rows:
                with self.engine.connect() as conn:
                    est = conn.exec_driver_sql(
                        "SELECT reltuples FROM pg_class WHERE relname = %s", (tables[0],)
                    ).scalar()
                self._analysed_rows[tables] = max(float(est or 0), 0.0)
            grown = self._grown.get(tables, 0) + rows
            if grown < max(1000.0, self._analysed_rows[tables] / 5):
                self._grown[tables] = grown
                return
            self._grown[tables] = 0
            self._analysed_rows[tables] += grown
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE " + ", ".join(tables))

    def _ping_if_idle(self, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        """Pool checkout (PostgreSQL): ping a connection that lay idle longer than PING_IDLE_S; DisconnectionError
        when it is dead, so that the pool drops it and checks out another (as pool_pre_ping does)."""
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= PING_IDLE_S:
            return  # new (just connected), or back from use a moment ago
        try:
            alive = self.engine.dialect.do_ping(dbapi_conn)
        except self.engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"a pooled connection is dead: {error}") from error
        if not alive:
            raise exc.DisconnectionError("a pooled connection is dead")

    def ping(self) -> None:
        """Run a trivial query: raises when the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.parts.close()
        if self._writer is not None:
            self._writer.close()
        if self._lock_fd is not None and self._lock_pid == os.getpid():
            with self._write_lock or contextlib.nullcontext():  # not while a write holds it
                os.close(self._lock_fd)
            self._lock_fd = None
        with self._submit_lock:
            submitted, self._submitted = self._submitted, None
        if submitted is not None:  # the writes started are finished (their callers wait on them), then the threads end
            submitted.shutdown(wait=True)
        with self._one_lock:
            self._drop_held()
        self.engine.dispose()


def _note_idle(_dbapi_conn: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, say when transactions begin: the module's own
    # implicit BEGIN breaks SAVEPOINT, which the group commit relies on.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL lets readers run while one writer commits; NORMAL sync is durable across process crashes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()
    dbapi_conn.create_function("regexp", 2, _regexp, deterministic=True)


_BEGIN = {"": "BEGIN", "IMMEDIATE": "BEGIN IMMEDIATE", "DEFERRED": "BEGIN DEFERRED", "EXCLUSIVE": "BEGIN EXCLUSIVE"}


def _sqlite_on_begin(conn: Connection) -> None:
    # straight to the driver: a statement through the Connection costs more than the BEGIN (every write has one)
    mode = conn.get_execution_options().get("sqlite_begin", "")
    conn.connection.driver_connection.execute(_BEGIN[mode])  # type: ignore[union-attr]


def null_pool_engine(url: str) -> Engine:
    """An engine without pooling, for one-off admin work (creating a throwaway database)."""
    return create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
