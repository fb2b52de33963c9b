"""The audit chain (审计): every read of governed data appended to one hash-chained, signed log.

Each record says who read (principal, department), through which grant, which catalogue entry, which records
(their ids, and the keyed hashes of the persons' ID numbers and enterprises' credit codes they concern), how
many, when (ms), through which API (route), for which scenario and purpose.

- **One chain for every tenant.** A record's ``seq`` is its place in the one chain; ``tenant`` is a field of
  it. One walk verifies everything, one seal signs everything, and no tenant's records can be dropped between
  two tenants' chains unseen; the cost is one lock on the chain's head, held for one batch insert.
- **The hash.** ``hash = SHA-256(canonical JSON of the record + the previous record's hash)`` (the first
  record's previous hash is 64 zeros). The canonical JSON is orjson's array of the fields of ``BODY`` in
  that declared order: as canonical as an object with sorted keys (the order is fixed by ``BODY``, and
  orjson writes one form of each value), and a third of the cost per record, which is what lets verify walk
  ten million records within a minute. ``prev`` is kept beside it so that verify can say whether a record
  was edited or moved.
- **Appends** are batches: one insert of many rows (executemany on SQLite, COPY on PostgreSQL). On SQLite
  they run in the store's writer thread (``run_write``), on PostgreSQL in a transaction that locks the head
  row (``FOR UPDATE``).
- **Kinds.** A record is a ``read`` of governed data, or a ``lookup`` of "who used my data" (who looked up
  which subject, the subject kept as its keyed hash, ``records`` the seqs of the reads shown, no catalogue
  ``code``). The kind is the record's ``route`` (``LOOKUP_ROUTE`` for a lookup), which the hash covers: a
  read cannot be turned into a lookup, and so hidden from "who used my data", unseen.
- **The subjects index** (``datahub_audit_subjects``, what "who used my data" looks up) is derived from the
  chain and kept behind it, off the reads' path: ``index_subjects`` brings it up to the head, at each lookup
  and every few seconds in the audit keeper (``cityos.datahub.keeper``).
- **Seals**: every ``audit_seal_every`` records, or at the first append ``audit_seal_seconds`` after the
  last seal, and on demand (``cityos audit seal``), a seal row signs (Ed25519) the head's seq and hash.
  Records after the newest seal are protected by the chain and the head row alone.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import orjson
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from cityos.datahub.audit_keys import AuditKeys, keys
from cityos.datahub.decisions import OBJECTIONS_STAMP_ID, STAMP_ID, StaleDecision
from cityos.datahub.errors import AuditChainBroken
from cityos.datahub.tables import audit, audit_head, audit_seals, audit_subjects
from cityos.runtime import Runtime
from cityos.store.engine import Database

CHAIN = "main"
LOOKUP_ROUTE = "GET /datahub/usage"  # the route of a lookup of "who used my data": a record of that kind
Kind = Literal["read", "lookup"]
KINDS: tuple[Kind, ...] = ("read", "lookup")
GENESIS = "0" * 64
# The fields a record's hash covers, in the order of the table's columns (prev and hash follow them).
BODY = ("seq", "tenant", "at_ms", "principal", "department", "grant_id", "code", "route", "scenario", "purpose",
        "count", "records", "subjects")  # fmt: skip
_ROW = (*BODY, "prev", "hash")
_WALKED = ", ".join((*BODY, "hash"))  # what verify reads of each record: prev only when one is wrong
_FETCH = 20_000  # rows per fetch while verifying
_PROGRESS_EVERY = 1 << 16
_MOVE_WINDOW = 64  # how far from its place verify looks for the seq a moved record was written with
_INDEX_BATCH = 5_000  # records indexed per transaction
_INDEX_LOCK = 0x63697479_61756478  # the advisory lock key of indexing subjects on PostgreSQL ("cityaudx")


@dataclass(frozen=True)
class AuditRead:
    """One read of governed data, as the route that served it reports it."""

    principal: str
    code: str  # the catalogue entry read
    route: str  # the API, e.g. "GET /datahub/datasets/{code}/records"
    records: tuple[str, ...] = ()  # the ids of the records read
    subjects: tuple[str, ...] = ()  # the ID numbers and credit codes they concern: kept as keyed hashes only
    count: int | None = None  # records read; None: len(records)
    department: str | None = None
    grant: str | None = None
    scenario: str | None = None
    purpose: str | None = None
    at_ms: int | None = None  # None: now


@dataclass(frozen=True)
class Appended:
    first: int  # seq of the first record appended
    last: int
    sealed: int | None  # the seq sealed with this batch, if any
    objections: int = 0  # the objections' stamp read in the append's transaction (what flags a read's records)


@dataclass(frozen=True)
class Seal:
    seq: int
    hash: str
    at_ms: int
    key_id: str


@dataclass(frozen=True)
class Verification:
    """What verify found: ``ok``, or the first bad ``seq`` and what is wrong with it (``problem``)."""

    ok: bool
    records: int  # records walked
    seals: int  # seals checked
    seconds: float
    seq: int | None = None
    problem: str | None = None

    def raise_if_broken(self) -> None:
        if not self.ok:
            raise AuditChainBroken(f"the audit chain is broken at seq {self.seq}: {self.problem}", seq=self.seq)


@dataclass(frozen=True)
class SubjectRead:
    """One read that touched a subject's records (数据使用记录)."""

    seq: int
    at_ms: int
    principal: str
    department: str | None
    code: str
    route: str
    grant: str | None
    scenario: str | None
    purpose: str | None


def canonical(values: Sequence[Any]) -> bytes:
    """The canonical JSON of a record: the array of its ``BODY`` fields in that order."""
    return orjson.dumps(tuple(values[: len(BODY)]))


def chain_hash(body: bytes, prev: str) -> str:
    return hashlib.sha256(body + prev.encode()).hexdigest()


def seal_message(seq: int, hash_: str, at_ms: int, key_id: str) -> bytes:
    return orjson.dumps({"at_ms": at_ms, "hash": hash_, "key_id": key_id, "seq": seq}, option=orjson.OPT_SORT_KEYS)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def subject_hash(rt: Runtime, subject: str) -> str:
    """The keyed hash the log keeps of a person's ID number or an enterprise's credit code."""
    return keys(rt).subject_hash(subject)


# --- appending ----------------------------------------------------------------------------------------------


def _head(conn: Connection, db: Database) -> Any:
    """The chain's head row, locked on PostgreSQL; made (from the newest record, if any) when missing."""
    query = select(audit_head).where(audit_head.c.chain == CHAIN)
    if db.locks_rows:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        last = conn.execute(select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)).first()
        conn.execute(
            text(
                "INSERT INTO datahub_audit_head (chain, seq, hash, sealed_seq, sealed_at_ms) "
                "VALUES (:chain, :seq, :hash, 0, :now) ON CONFLICT (chain) DO NOTHING"
            ),
            {"chain": CHAIN, "seq": last.seq if last else 0, "hash": last.hash if last else GENESIS, "now": now_ms()},
        )
        row = conn.execute(query).one()
    return row


def _values(seq: int, tenant: str, read: AuditRead, at_ms: int, subjects: str) -> tuple[Any, ...]:
    return (seq, tenant, read.at_ms if read.at_ms is not None else at_ms, read.principal, read.department,
            read.grant, read.code, read.route, read.scenario, read.purpose,
            read.count if read.count is not None else len(read.records),
            orjson.dumps(read.records).decode(), subjects)  # fmt: skip


def _insert(conn: Connection, db: Database, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """One insert of many rows: executemany on SQLite, COPY on PostgreSQL."""
    if db.is_sqlite:
        marks = ", ".join("?" * len(columns))
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _write_seal(conn: Connection, k: AuditKeys, seq: int, hash_: str, at_ms: int) -> Seal:
    signature = k.sign(seal_message(seq, hash_, at_ms, k.key_id))
    conn.execute(audit_seals.insert(), {"seq": seq, "hash": hash_, "at_ms": at_ms, "key_id": k.key_id,
                                        "signature": signature})  # fmt: skip
    conn.execute(audit_head.update().where(audit_head.c.chain == CHAIN).values(sealed_seq=seq, sealed_at_ms=at_ms))
    return Seal(seq, hash_, at_ms, k.key_id)


def _due(head: Any, seq: int, at_ms: int, rt: Runtime) -> bool:
    s = rt.settings
    return seq > head.sealed_seq and (
        seq - head.sealed_seq >= s.audit_seal_every or at_ms - head.sealed_at_ms >= s.audit_seal_seconds * 1000
    )


# The statements of an append, sent through the driver's own cursor: an append is on every governed read's path,
# and SQLAlchemy's handling of each statement (its cache key, parameters, result) costs more than SQLite takes to
# run it. The head row is locked first (PostgreSQL), the stamps read after the lock is held (a statement that
# waited for the lock reads them in a snapshot taken after the wait).
_HEAD_SQL = f"SELECT seq, hash, sealed_seq, sealed_at_ms FROM datahub_audit_head WHERE chain = '{CHAIN}'"
_STAMPS_SQL = f"SELECT id, n FROM datahub_governance_stamp WHERE id IN ({STAMP_ID}, {OBJECTIONS_STAMP_ID})"
_SMALL_BATCH = 16  # PostgreSQL: up to this many records in one INSERT with the head's update, more by COPY


class _Head(NamedTuple):
    seq: int
    hash: str
    sealed_seq: int
    sealed_at_ms: int


def _append_rows(
    conn: Connection, db: Database, rows: list[tuple[Any, ...]], seq: int, hash_: str, *, commit: bool = False
) -> None:
    """Insert ``rows`` into the chain and move its head to (``seq``, ``hash_``): on SQLite two statements, on
    PostgreSQL one for a read's record (a round trip each), COPY and an update for a large batch. ``commit``
    (PostgreSQL, a read's record): the transaction's COMMIT sent in one pipeline with that statement, one round
    trip for both, and waited for (the record is durable when this returns: synchronous_commit as configured);
    the transaction that ran the job then has nothing left to commit."""
    dbapi = conn.connection.dbapi_connection
    cur = dbapi.cursor()  # type: ignore[union-attr]
    columns = ", ".join(_ROW)
    if db.is_sqlite:
        marks = ", ".join("?" * len(_ROW))
        cur.executemany(f"INSERT INTO datahub_audit ({columns}) VALUES ({marks})", rows)
        cur.execute(f"UPDATE datahub_audit_head SET seq = ?, hash = ? WHERE chain = '{CHAIN}'", (seq, hash_))
        return
    if len(rows) > _SMALL_BATCH:
        _insert(conn, db, "datahub_audit", _ROW, rows)
        cur.execute(f"UPDATE datahub_audit_head SET seq = %s, hash = %s WHERE chain = '{CHAIN}'", (seq, hash_))
        return
    marks = ", ".join([f"({', '.join(['%s'] * len(_ROW))})"] * len(rows))
    sql = (f"WITH appended AS (INSERT INTO datahub_audit ({columns}) VALUES {marks}) "
           f"UPDATE datahub_audit_head SET seq = %s, hash = %s WHERE chain = '{CHAIN}'")  # fmt: skip
    values = (*(v for row in rows for v in row), seq, hash_)
    if not commit:
        cur.execute(sql, values)
        return
    with dbapi.pipeline():  # type: ignore[union-attr]
        cur.execute(sql, values)
        dbapi.commit()  # type: ignore[union-attr]


def _locked_head(conn: Connection, db: Database) -> tuple[_Head, int, int]:
    """The chain's head (locked on PostgreSQL) and the governance and objection stamps, read after the lock. On
    PostgreSQL the two statements (and the transaction's BEGIN) go in one pipeline, one round trip: the server
    runs them in order, so the stamps are read once the lock is held."""
    dbapi = conn.connection.dbapi_connection
    heads, stamped = dbapi.cursor(), dbapi.cursor()  # type: ignore[union-attr]
    if db.is_sqlite:
        heads.execute(_HEAD_SQL)
        stamped.execute(_STAMPS_SQL)
    else:
        with dbapi.pipeline():  # type: ignore[union-attr]
            heads.execute(_HEAD_SQL + " FOR UPDATE")
            stamped.execute(_STAMPS_SQL)
    found = heads.fetchone()
    head = _Head(*found) if found is not None else _Head(*_head(conn, db)[1:5])  # made when missing
    stamps = dict(stamped.fetchall())
    return head, int(stamps.get(STAMP_ID, 0)), int(stamps.get(OBJECTIONS_STAMP_ID, 0))


def append(rt: Runtime, tenant: str, reads: Sequence[AuditRead], *, stamp: int | None = None) -> Appended | None:
    """Append ``reads`` to the chain in one insert; seals when one is due. Safe from many threads and
    processes. None when there is nothing to append. ``stamp``: the governance stamp the reads were decided
    under (:mod:`cityos.datahub.decisions`); StaleDecision, and nothing appended, when it has moved since."""
    if not reads:
        return None
    return rt.db.run_write(_append_job(rt, tenant, reads, stamp))


def append_soon(rt: Runtime, tenant: str, reads: Sequence[AuditRead], *, stamp: int | None = None) -> Future[Appended]:
    """:func:`append` started now in the database's writer thread (:meth:`Database.submit_write`), for a read
    that builds its answer meanwhile: its future holds the Appended once the record is committed, or the error
    (StaleDecision when the stamp moved, nothing appended). The caller shows nothing before the future
    resolved without an error: the guarantee of every governed read (nothing shown unaudited) is kept by
    waiting on it, and the commit's wait (a round trip to PostgreSQL, SQLite's write) overlaps the build."""
    if not reads:
        raise ValueError("append_soon needs at least one read")
    return rt.db.submit_write(_append_job(rt, tenant, reads, stamp))


def _append_job(
    rt: Runtime, tenant: str, reads: Sequence[AuditRead], stamp: int | None
) -> Callable[[Connection], Appended]:
    k = keys(rt)

    def job(conn: Connection) -> Appended:
        head, governance, objections = _locked_head(conn, rt.db)
        if stamp is not None and governance != stamp:
            raise StaleDecision(f"the governance stamp moved from {stamp}")
        at_ms = now_ms()
        seq, prev = head.seq, head.hash
        rows = []
        for read in reads:
            seq += 1
            values = _values(seq, tenant, read, at_ms, k.subjects_text(read.subjects))
            digest = chain_hash(canonical(values), prev)
            rows.append((*values, prev, digest))
            prev = digest
        if _due(head, seq, at_ms, rt):  # the seal is written in the same transaction
            _append_rows(conn, rt.db, rows, seq, prev)
            return Appended(head.seq + 1, seq, _write_seal(conn, k, seq, prev, at_ms).seq, objections)
        # PostgreSQL: the record's statement and the COMMIT in one round trip (SQLite: the writer commits)
        _append_rows(conn, rt.db, rows, seq, prev, commit=not rt.db.is_sqlite and len(rows) <= _SMALL_BATCH)
        return Appended(head.seq + 1, seq, None, objections)

    return job


def seal(rt: Runtime) -> Seal | None:
    """Seal the chain's head now (the newest seal when the head is sealed already); None when it is empty."""
    k = keys(rt)

    def job(conn: Connection) -> Seal | None:
        head = _head(conn, rt.db)
        if head.seq == 0:
            return None
        if head.sealed_seq == head.seq:
            found = conn.execute(select(audit_seals).where(audit_seals.c.seq == head.seq)).first()
            if found is not None:
                return Seal(found.seq, found.hash, found.at_ms, found.key_id)
        return _write_seal(conn, k, head.seq, head.hash, now_ms())

    return rt.db.run_write(job)


def seal_if_due(rt: Runtime) -> Seal | None:
    """Seal the chain's head if a seal is due (``audit_seal_every`` records or ``audit_seal_seconds`` since the
    last one), so that a quiet chain is sealed on time rather than at its next append; the seal made, if any."""
    k = keys(rt)

    def job(conn: Connection) -> Seal | None:
        head = _head(conn, rt.db)
        at_ms = now_ms()
        return _write_seal(conn, k, head.seq, head.hash, at_ms) if _due(head, head.seq, at_ms, rt) else None

    return rt.db.run_write(job)


# --- verifying ----------------------------------------------------------------------------------------------


def _rows(db: Database) -> Iterator[Sequence[Any]]:
    """Every record in seq order, in fetches of _FETCH rows: a server-side cursor on PostgreSQL."""
    sql = f"SELECT {_WALKED} FROM datahub_audit ORDER BY seq"
    raw = db.engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor(name="cityos_audit_verify") if not db.is_sqlite else raw.cursor()  # type: ignore[union-attr]
        cur.execute(sql)
        while batch := cur.fetchmany(_FETCH):
            yield batch
        cur.close()
    finally:
        raw.rollback()
        raw.close()


def _moved_from(body: Sequence[Any], stored_prev: str, hash_: str, at: int) -> int | None:
    """The seq a record found at ``at`` was written with, when it is near: it was moved."""
    values = list(body)
    for seq in range(max(1, at - _MOVE_WINDOW), at + _MOVE_WINDOW + 1):
        values[0] = seq
        if seq != at and chain_hash(canonical(values), stored_prev) == hash_:
            return seq
    return None


def _diagnose(db: Database, row: Sequence[Any], prev: str) -> str:
    """What is wrong with the record ``row`` (its body and hash) whose hash does not follow from ``prev``."""
    at, body, hash_ = row[0], row[: len(BODY)], row[len(BODY)]
    with db.connect() as conn:
        stored_prev = conn.execute(select(audit.c.prev).where(audit.c.seq == at)).scalar() or ""
    if stored_prev == prev:
        return "edited: its content does not match its hash"
    moved = _moved_from(body, stored_prev, hash_, at)
    if moved is not None:
        return f"moved: the record written as seq {moved} is at seq {at} (records reordered or renumbered)"
    if chain_hash(canonical(body), stored_prev) == hash_:
        return f"out of place: it does not follow seq {at - 1} (a record before it was removed or replaced)"
    return f"edited, and it does not follow seq {at - 1}"


class _Walk:
    """The state of one walk over the chain: the next seq expected, the hash before it, the seals ahead."""

    def __init__(self, db: Database, seals: list[Any], k: AuditKeys) -> None:
        self.db, self.expected, self.prev = db, 1, GENESIS
        self.seals, self.keys, self.next_seal = seals, k, 0
        self.problem: tuple[int, str] | None = None

    def seal_at(self) -> int:
        return self.seals[self.next_seal].seq if self.next_seal < len(self.seals) else -1

    def check_seal(self, seal_row: Any, hash_: str) -> str | None:
        message = seal_message(seal_row.seq, seal_row.hash, seal_row.at_ms, seal_row.key_id)
        if not self.keys.knows(seal_row.key_id):
            return (f"its seal was made with the key {seal_row.key_id}, which is neither the seal key "
                    f"{self.keys.key_id} nor a retired one (a forged seal, or a retired key's public key missing "
                    "from CITYOS_AUDIT_RETIRED_KEYS)")  # fmt: skip
        if not self.keys.verifies(message, seal_row.signature, seal_row.key_id):
            return (f"its seal's signature does not verify with the key {seal_row.key_id} "
                    "(a forged seal, or one made with another key)")  # fmt: skip
        if seal_row.hash != hash_:
            return "its seal signed another hash: the record or one before it was replaced"
        return None

    def run(self, batch: Sequence[Any]) -> bool:
        """Walk one fetch; False at the first problem (kept in ``problem``)."""
        dumps, sha256, n = orjson.dumps, hashlib.sha256, len(BODY)
        expected, prev = self.expected, self.prev
        next_seal = self.seal_at()
        for row in batch:
            seq = row[0]
            if seq != expected:
                self.problem = (expected, f"removed: seq {seq} follows seq {expected - 1}")
                return False
            digest = sha256(dumps(row[:n]) + prev.encode()).hexdigest()  # canonical(row) + prev, inlined
            if digest != row[n]:
                self.problem = (seq, _diagnose(self.db, row, prev))
                return False
            if seq == next_seal:
                wrong = self.check_seal(self.seals[self.next_seal], digest)
                if wrong:
                    self.problem = (seq, wrong)
                    return False
                self.next_seal += 1
                next_seal = self.seal_at()
            expected, prev = seq + 1, digest
        self.expected, self.prev = expected, prev
        return True

    def finish(self, head: Any) -> None:
        """The checks after the last record: the head and the seals point no further than the chain goes."""
        last = self.expected - 1
        if self.next_seal < len(self.seals):
            seq = self.seals[self.next_seal].seq
            self.problem = (last + 1, f"removed: a seal covers seq {seq}, the chain ends at seq {last}")
        elif head is not None and head.seq > last:
            self.problem = (last + 1, f"removed: the chain's head is seq {head.seq}, the chain ends at seq {last}")
        elif head is None and last > 0:
            self.problem = (last, "the chain's head row was removed")
        elif head is not None and head.sealed_seq and head.sealed_seq not in {s.seq for s in self.seals}:
            self.problem = (head.sealed_seq, "its seal was removed")


def verify(rt: Runtime, progress: Callable[[int], None] | None = None) -> Verification:
    """Walk the whole chain in seq order, recompute every hash and check every seal's signature; the first
    record that was edited, removed or moved is named. ``progress(records walked)`` is called now and then."""
    started = time.perf_counter()
    k = keys(rt)
    with rt.db.connect() as conn:
        head = conn.execute(select(audit_head).where(audit_head.c.chain == CHAIN)).first()
        seals = list(conn.execute(select(audit_seals).order_by(audit_seals.c.seq)))
    walk = _Walk(rt.db, seals, k)
    reported = 0
    for batch in _rows(rt.db):
        if not walk.run(batch):
            break
        if progress and walk.expected - 1 - reported >= _PROGRESS_EVERY:
            reported = walk.expected - 1
            progress(reported)
    if walk.problem is None:
        walk.finish(head)
    walked = walk.expected - 1
    if progress:
        progress(walked)
    seconds = time.perf_counter() - started
    if walk.problem:
        return Verification(False, walked, walk.next_seal, seconds, *walk.problem)
    return Verification(True, walked, walk.next_seal, seconds)


def chain_length(rt: Runtime) -> int:
    """The chain's head seq (0 when empty): what verify will walk."""
    with rt.db.connect() as conn:
        return conn.execute(select(audit_head.c.seq).where(audit_head.c.chain == CHAIN)).scalar() or 0


# --- who used my data ---------------------------------------------------------------------------------------


def kind_of(route: str) -> Kind:
    """A record's kind (``KINDS``), from its route."""
    return "lookup" if route == LOOKUP_ROUTE else "read"


def index_subjects(rt: Runtime) -> int:
    """Bring the subjects index up to the chain's head: one row (tenant, subject, seq) for each subject of each
    record appended since the index was last brought up. The number of rows written. Safe from many threads
    and processes (one at a time: SQLite's writer, a PostgreSQL advisory lock); ``AuditKeeper`` calls it every
    few seconds and every lookup calls it first, so that a read is found at once."""

    def job(conn: Connection) -> int | None:
        """One batch of records indexed: the rows written, None when the index had reached the head."""
        if rt.db.locks_rows:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INDEX_LOCK})
        head = conn.execute(select(audit_head).where(audit_head.c.chain == CHAIN)).first()
        if head is None or head.subjects_seq >= head.seq:
            return None
        upto = min(head.seq, head.subjects_seq + _INDEX_BATCH)
        found = conn.execute(
            select(audit.c.seq, audit.c.tenant, audit.c.subjects)
            .where(audit.c.seq > head.subjects_seq, audit.c.seq <= upto)
            .order_by(audit.c.seq)
        )
        touched = [(tenant, s, seq) for seq, tenant, subjects in found for s in orjson.loads(subjects)]
        if touched:
            _insert(conn, rt.db, "datahub_audit_subjects", ("tenant", "subject", "seq"), touched)
        conn.execute(audit_head.update().where(audit_head.c.chain == CHAIN).values(subjects_seq=upto))
        return len(touched)

    written = 0
    while (rows := rt.db.run_write(job)) is not None:  # batches, so that appends go on between them
        written += rows
    return written


def reads_of_subject(
    rt: Runtime, tenant: str, subject_hash: str, *, limit: int = 100, before: int | None = None
) -> list[SubjectRead]:
    """The reads that touched a person's or an enterprise's records (``subject_hash``), newest first (the
    index brought up to the chain's head first); with ``before``, only those older than that seq (the next
    page). Lookups of the subject's usage are not uses of its data and are not listed (the audit view lists
    them)."""
    index_subjects(rt)
    query = (
        select(audit)
        .join(audit_subjects, audit_subjects.c.seq == audit.c.seq)
        .where(audit_subjects.c.tenant == tenant, audit_subjects.c.subject == subject_hash)
        .where(audit.c.route != LOOKUP_ROUTE)
        .order_by(audit.c.seq.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(audit_subjects.c.seq < before)
    with rt.db.connect() as conn:
        return [SubjectRead(r.seq, r.at_ms, r.principal, r.department, r.code, r.route, r.grant_id, r.scenario,
                            r.purpose) for r in conn.execute(query)]  # fmt: skip


def usage_lookup(
    rt: Runtime,
    tenant: str,
    subject: str,
    principal: str,
    department: str | None,
    *,
    limit: int = 100,
    before: int | None = None,
) -> list[SubjectRead]:
    """ "Who used my data" for ``subject`` (an ID number or a credit code), the lookup itself appended to the
    chain as a record of kind ``lookup``: who looked (a clerk at a service counter, or the person or
    enterprise itself on the one-stop portal), for which subject (kept as its keyed hash), which reads it was
    shown. ``before``: the page of reads older than that seq."""
    found = reads_of_subject(rt, tenant, subject_hash(rt, subject), limit=limit, before=before)
    lookup = AuditRead(principal=principal, code="", route=LOOKUP_ROUTE, records=tuple(str(r.seq) for r in found),
                       subjects=(subject,), department=department)  # fmt: skip
    append(rt, tenant, [lookup])
    return found


# --- who read a record --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRead:
    """One read of an entry whose records included a given record."""

    seq: int
    at_ms: int
    department: str | None
    principal: str


def reads_of_record(
    rt: Runtime,
    tenant: str,
    code: str,
    record_id: str,
    *,
    department: str | None = None,
    limit: int = 10_000,
    principal: str | None = None,
) -> list[RecordRead]:
    """The reads of entry ``code`` that returned the record ``record_id`` (by ``department`` only, when named),
    oldest first. The chain's index by (tenant, code, department) narrows the search to the entry's reads, a
    LIKE on the records' JSON array to those that may hold the id, and the array itself decides."""
    wanted = orjson.dumps(record_id).decode()  # the id as the array spells it, quotes included
    cond = [audit.c.tenant == tenant, audit.c.code == code, audit.c.records.contains(wanted, autoescape=True)]
    if department is not None:
        cond.append(audit.c.department == department)
    if principal is not None:  # the open data portal's reads: by ``public``, for no department
        cond.append(audit.c.principal == principal)
    query = (
        select(audit.c.seq, audit.c.at_ms, audit.c.department, audit.c.principal, audit.c.records)
        .where(*cond)
        .order_by(audit.c.seq)
        .limit(limit)
    )
    with rt.db.connect() as conn:
        return [RecordRead(r.seq, r.at_ms, r.department, r.principal) for r in conn.execute(query)
                if record_id in orjson.loads(r.records)]  # fmt: skip
