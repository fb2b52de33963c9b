"""Round trips of the PostgreSQL store, counted in libpq's trace of what the client sends: a connection back from
use a moment ago is handed out without a ping, one idle longer is pinged and replaced when it is dead, and a
one-statement write (Database.run_one) is one round trip that is committed when it returns and atomic; an
e-certificate is issued in one round trip."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from cityos import onestop
from cityos.runtime import Runtime
from cityos.store import engine
from cityos.store.engine import Database

pytestmark = pytest.mark.postgres
ENTERPRISE = "urn:ngsi-ld:Organization:91310101MA1FPX1234"
LICENCE = {
    "entityName": "上海黄浦示例餐饮有限公司", "creditCode": "91310101MA1FPX1234", "entityType": "有限责任公司",
    "legalRepresentative": "张三", "establishedOn": "2024-03-01", "domicile": "上海市黄浦区示例路1号",
    "businessScope": "餐饮服务",
}  # fmt: skip


@pytest.fixture
def pg(pg_database_url: str) -> Iterator[Database]:
    database = Database(pg_database_url)
    yield database
    database.dispose()


class Trace:
    """libpq's trace of every connection the pool hands out while it is on: the messages the client sent."""

    def __init__(self, db: Database, path: Path) -> None:
        self._db, self._path = db, path
        self._file = path.open("w")
        self._traced: list[Any] = []
        event.listen(db.engine, "checkout", self._on_checkout)
        event.listen(db.engine, "before_cursor_execute", self._on_execute)  # a connection checked out already

    def _on_execute(self, conn: Any, *_: Any) -> None:
        self._on_checkout(conn.connection.dbapi_connection)

    def _on_checkout(self, dbapi_conn: Any, *_: Any) -> None:
        if dbapi_conn.pgconn not in self._traced:
            dbapi_conn.pgconn.trace(self._file.fileno())
            dbapi_conn.pgconn.set_trace_flags(0)
            self._traced.append(dbapi_conn.pgconn)

    def sent(self) -> Counter[str]:
        """Messages sent since the trace began, by kind (a simple Query by its text too); stops the trace."""
        event.remove(self._db.engine, "checkout", self._on_checkout)
        event.remove(self._db.engine, "before_cursor_execute", self._on_execute)
        for pgconn in self._traced:
            pgconn.untrace()
        self._file.close()
        kinds: Counter[str] = Counter()
        for line in self._path.read_text().splitlines():
            fields = line.split("\t")
            if len(fields) > 3 and fields[1] == "F":
                kind, _, rest = fields[3].partition(" ")
                kinds[kind] += 1
                if kind == "Query":
                    kinds[f"Query {rest.strip()}"] += 1
        return kinds

    @staticmethod
    def round_trips(kinds: Counter[str]) -> int:
        """Each simple Query and each Sync of the extended protocol waits for the server's answer."""
        return kinds["Query"] + kinds["Sync"]


def _pid(db: Database) -> int:
    with db.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_back_a_moment_ago_is_not_pinged(pg: Database, tmp_path: Path) -> None:
    first = _pid(pg)
    trace = Trace(pg, tmp_path / "trace")
    assert _pid(pg) == first  # the same pooled connection
    sent = trace.sent()
    # BEGIN, the SELECT, the ROLLBACK of the pool's reset: no ping (the empty query ";") before them
    assert Trace.round_trips(sent) == 3 and 'Query ";"' not in sent, sent


def test_an_idle_dead_connection_is_pinged_and_replaced(pg: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _pid(pg)
    with engine.null_pool_engine(pg.url).connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar_one()
    monkeypatch.setattr(engine, "PING_IDLE_S", 0.0)  # every pooled connection counts as idle
    assert _pid(pg) != first  # the ping found it dead: the pool gave a new one, the caller saw no error


def test_a_one_statement_write_is_one_round_trip_and_committed(pg: Database, tmp_path: Path) -> None:
    pg.run_write(lambda conn: conn.execute(text("CREATE TABLE rt_probe (k INT PRIMARY KEY, v TEXT NOT NULL)")))
    insert = text("WITH a AS (INSERT INTO rt_probe VALUES (:k, 'a')) INSERT INTO rt_probe VALUES (:k + 1, 'b')")
    pg.run_one(lambda conn: conn.execute(insert, {"k": 1}))  # the connection warmed up
    trace = Trace(pg, tmp_path / "trace")
    pg.run_one(lambda conn: conn.execute(insert, {"k": 10}))
    sent = trace.sent()
    assert Trace.round_trips(sent) == 1 and "COMMIT" not in str(sent), sent
    with engine.null_pool_engine(pg.url).connect() as other:  # another session sees it: committed
        assert other.execute(text("SELECT count(*) FROM rt_probe WHERE k >= 10")).scalar_one() == 2
    with pytest.raises(IntegrityError):  # 9 is new, 10 is taken: the statement fails whole, 9 is not kept
        pg.run_one(lambda conn: conn.execute(insert, {"k": 9}))
    with pg.connect() as conn:
        assert conn.execute(text("SELECT k FROM rt_probe ORDER BY k")).scalars().all() == [1, 2, 10, 11]
    pg.run_write(lambda conn: conn.execute(text("DROP TABLE rt_probe")))


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
@pytest.mark.settings(seal_secret="a-test-seal-secret-of-some-length")
def test_an_e_certificate_is_issued_in_one_round_trip(rt: Runtime, tmp_path: Path) -> None:
    def issue() -> onestop.IssuedCredential:
        return onestop.issue_credential(rt, "BusinessLicence", ENTERPRISE, LICENCE, "market-regulation")

    first = issue()  # the seal made and a block of status indexes reserved (one statement per block)
    trace = Trace(rt.db, tmp_path / "trace")
    issued = issue()
    sent = trace.sent()
    # the credential, its history row: one statement, committed as it returns (no BEGIN, no COMMIT, no ping)
    assert Trace.round_trips(sent) == 1 and sent["Execute"] == 1, sent
    assert issued.status_index == first.status_index + 1
    with engine.null_pool_engine(rt.db.url).connect() as other:
        assert other.execute(text("SELECT count(*) FROM onestop_credential_history WHERE credential_id = :c"),
                             {"c": issued.id}).scalar_one() == 1  # fmt: skip
    assert onestop.verify_credential_here(rt, issued.document).ok


def test_the_connection_kept_for_one_statement_writes_is_replaced_when_dead(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def pid() -> int:
        return int(pg.run_one(lambda conn: conn.execute(text("SELECT pg_backend_pid()")).scalar_one()))

    def kill(backend: int) -> None:
        with engine.null_pool_engine(pg.url).connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": backend}).scalar_one()

    first = pid()
    assert pid() == first  # kept between writes
    kill(first)
    monkeypatch.setattr(engine, "PING_IDLE_S", 0.0)  # idle: pinged before use, found dead, replaced
    second = pid()
    assert second != first
    monkeypatch.setattr(engine, "PING_IDLE_S", 1e9)  # used a moment ago: not pinged, so the write that finds it
    kill(second)  # dead fails, as a statement on a connection the server dropped mid-way would
    with pytest.raises(DBAPIError):
        pid()
    assert pid() not in (first, second)  # the next write takes a new connection
