"""Benchmark of the data resource system's audit chain. Prints figures; asserts nothing.

On SQLite and on PostgreSQL, in one run each:
  - append: records/s of ``datahub.append`` in batches (each record a read of one record touching one
    subject: hashes, the keyed subject hash, the insert of the records, the head), then the subjects index
    brought up to the head (``datahub.index_subjects``, which the keeper runs behind the reads), beside
    the rate of a plain DB-API executemany of exactly the same rows into the same tables (the ratio);
    medians of --repeats runs;
  - verify: a chain of N records (default 1 million) loaded straight into the table with the same hashes
    (executemany on SQLite, COPY on PostgreSQL), sealed, then walked by ``datahub.verify``; the median time,
    and that time scaled to 10 million records (the target: at most 60 s).
Targets (issue 17): append at least 20,000 records/s; verify of 10 million records in at most 60 s.

Run: .venv/bin/python bench/audit.py [--records N] [--db sqlite|postgresql|both]   (PostgreSQL: the local server)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import fresh_database
from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.datahub.audit import BODY, GENESIS, canonical, chain_hash
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade
from cityos.tuning import tune_process

TARGET_APPEND = 20_000
TARGET_VERIFY_10M = 60.0
ROUTE = "GET /datahub/datasets/{code}/records"
COLUMNS = (*BODY, "prev", "hash")


def reads(n: int, offset: int) -> list[datahub.AuditRead]:
    return [
        datahub.AuditRead(
            principal="hp-civil",
            department="hp-civil",
            code="HP-01-0001",
            route=ROUTE,
            records=(f"urn:ngsi-ld:Person:{offset + i}",),
            subjects=(f"3101011990{offset + i:08d}",),
            grant="g-17",
            scenario="低保资格核验",
            purpose="eligibility check",
        )
        for i in range(n)
    ]


def runtime(db: Database, tmp: Path) -> Runtime:
    upgrade(db)
    return Runtime(Settings(database_url=db.url, data_dir=tmp), db, MemoryBus())


def empty(db: Database) -> None:
    with db.begin() as conn:
        for table in ("datahub_audit_subjects", "datahub_audit_seals", "datahub_audit_head", "datahub_audit"):
            conn.exec_driver_sql(f"DELETE FROM {table}")


def append_rate(rt: Runtime, batches: int, size: int) -> float:
    empty(rt.db)
    made = [reads(size, b * size) for b in range(batches)]  # what the routes hand over: made before the clock
    t0 = time.perf_counter()
    for batch in made:
        datahub.append(rt, "bench", batch)
    datahub.index_subjects(rt)  # the subjects index, which the keeper brings up behind the appends
    return batches * size / (time.perf_counter() - t0)


def stored_rows(rt: Runtime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows the last append run wrote: what the raw baseline inserts again."""
    with rt.db.connect() as conn:
        rows = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {', '.join(COLUMNS)} FROM datahub_audit ORDER BY seq")]
        subjects = [
            tuple(r)
            for r in conn.exec_driver_sql("SELECT tenant, subject, seq FROM datahub_audit_subjects ORDER BY seq")
        ]
    return rows, subjects


def raw_rate(db: Database, rows: list[tuple[Any, ...]], subjects: list[tuple[Any, ...]], size: int) -> float:
    """Records/s of a plain executemany of the same rows, one transaction per batch, as append commits."""
    empty(db)
    mark = "?" if db.is_sqlite else "%s"
    sql = f"INSERT INTO datahub_audit ({', '.join(COLUMNS)}) VALUES ({', '.join([mark] * len(COLUMNS))})"
    sub_sql = f"INSERT INTO datahub_audit_subjects (tenant, subject, seq) VALUES ({mark}, {mark}, {mark})"
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        t0 = time.perf_counter()
        for start in range(0, len(rows), size):
            if db.is_sqlite:
                cur.execute("BEGIN")
            cur.executemany(sql, rows[start : start + size])
            cur.executemany(sub_sql, subjects[start : start + size])
            raw.commit()
        return len(rows) / (time.perf_counter() - t0)
    finally:
        raw.close()


def chain_rows(n: int) -> Any:
    """N chained records as the append writes them, made here without the database."""
    prev = GENESIS
    for seq in range(1, n + 1):
        values = (seq, "bench", 1_765_000_000_000 + seq, "hp-civil", "hp-civil", "g-17", "HP-01-0001", ROUTE,
                  "低保资格核验", "eligibility check", 1, orjson.dumps([f"urn:ngsi-ld:Person:{seq}"]).decode(),
                  orjson.dumps([f"{seq:064x}"]).decode())  # fmt: skip
        digest = chain_hash(canonical(values), prev)
        yield (*values, prev, digest)
        prev = digest


def load_chain(rt: Runtime, n: int) -> float:
    """Write a chain of n records straight into the table, set its head and seal it; returns seconds."""
    empty(rt.db)
    t0 = time.perf_counter()
    raw = rt.db.engine.raw_connection()
    last = (0, GENESIS)
    try:
        cur = raw.cursor()
        if rt.db.is_sqlite:
            sql = f"INSERT INTO datahub_audit ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
            cur.execute("BEGIN")
            chunk: list[tuple[Any, ...]] = []
            for row in chain_rows(n):
                chunk.append(row)
                if len(chunk) == 50_000:
                    cur.executemany(sql, chunk)
                    last, chunk = (row[0], row[-1]), []
            if chunk:
                cur.executemany(sql, chunk)
                last = (chunk[-1][0], chunk[-1][-1])
        else:
            with cur.copy(f"COPY datahub_audit ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in chain_rows(n):
                    copy.write_row(row)
                    last = (row[0], row[-1])
        cur.execute(
            "INSERT INTO datahub_audit_head (chain, seq, hash, sealed_seq, sealed_at_ms) VALUES "
            + ("(?, ?, ?, 0, 0)" if rt.db.is_sqlite else "(%s, %s, %s, 0, 0)"),
            ("main", last[0], last[1]),
        )
        raw.commit()
    finally:
        raw.close()
    if not rt.db.is_sqlite:
        with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE datahub_audit")
    datahub.seal(rt)
    return time.perf_counter() - t0


def bench_db(kind: str, args: argparse.Namespace, tmp: Path) -> None:
    db, drop = fresh_database(kind, tmp)
    try:
        rt = runtime(db, tmp)
        appends, raws = [], []
        for _ in range(args.repeats):  # taking turns, so that neither always meets a fresh file
            appends.append(append_rate(rt, args.batches, args.batch))
            rows, subjects = stored_rows(rt)
            raws.append(raw_rate(db, rows, subjects, args.batch))
        append, raw = statistics.median(appends), statistics.median(raws)
        print(f"{kind}: append {append:,.0f} records/s (batches of {args.batch:,}; target ≥ {TARGET_APPEND:,}), "
              f"raw executemany {raw:,.0f} rows/s, ratio {append / raw:.2f}")  # fmt: skip
        loaded = load_chain(rt, args.records)
        print(f"{kind}: loaded a chain of {args.records:,} records in {loaded:.1f} s")
        runs = []
        for _ in range(args.repeats):
            out = datahub.verify(rt)
            assert out.ok, out  # a broken bench chain would time the wrong thing
            runs.append(out.seconds)
        seconds = statistics.median(runs)
        scaled = seconds * 10_000_000 / args.records
        print(f"{kind}: verify {args.records:,} records in {seconds:.2f} s ({args.records / seconds:,.0f} records/s), "
              f"10 million scaled {scaled:.1f} s (target ≤ {TARGET_VERIFY_10M:.0f} s)")  # fmt: skip
        rt.parts.close()
    finally:
        drop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--records", type=int, default=1_000_000, help="records of the chain verify walks (to 10 million)")
    ap.add_argument("--batch", type=int, default=1000, help="records per append")
    ap.add_argument("--batches", type=int, default=50, help="appends per run")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each measure; the median is printed")
    args = ap.parse_args()
    tune_process()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            bench_db(kind, args, Path(tmp))


if __name__ == "__main__":
    main()
