"""Benchmark of e-certificates (电子证照, issue 20): issue and verify, against raw Ed25519 in the same run.
Prints figures; asserts nothing. One process, one thread (one core; the --callers figure: threads, one GIL).

  - raw sign / raw verify: Ed25519 (cryptography) of exactly the bytes a credential's proof signs (its 64-byte
    hashData), the floor of any eddsa-jcs-2022 implementation;
  - sign: build a credential and make its proof (JCS of the proof configuration and of the document, two
    SHA-256, Ed25519): what issuing costs before storage;
  - issue: ``onestop.issue_credential`` one at a time, as an approved application issues its certificate: the
    claims checked, a status index taken (from the block this process reserved: one counter update per 64), the
    credential signed, then stored in the wallet with its history row and committed before it returns (one
    commit each: on SQLite in the caller's thread when the writer is idle; on PostgreSQL with
    synchronous_commit on, the server's default); ``onestop.issue_many`` of 100 a transaction (统一发证 of a
    batch); and --callers threads each issuing one at a time (several clerks at once: their commits are shared);
  - commit floor: one INSERT of a row the size of a credential and its COMMIT through the driver, one at a time,
    on the same database: what any durable one-at-a-time issue costs at least (on PostgreSQL the WAL flush);
    on PostgreSQL three round trips (BEGIN, INSERT, COMMIT); "one-statement floor": the same INSERT in
    autocommit mode, one round trip, as an issue on PostgreSQL now writes (the data-modifying WITH of
    credential_store, run by Database.run_one);
  - verify: ``onestop.verify_credential`` of a stored credential: signature, validity, seal, and its two status
    entries looked up in the status lists a verifier holds (each list's proof checked once, when it was read).
Each figure is the median of --repeats runs; ratios are against the raw figure of the same run.
Targets (issue 20): issue at least 1,000/s, verify at least 2,000/s on one core.

Run: .venv/bin/python bench/credentials.py [--db sqlite|postgresql|both] [--n 2000] [--repeats 5] [--callers 4]
(PostgreSQL: a throwaway database on the local server, CITYOS_TEST_PG_ADMIN_URL as the tests use)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityos import onestop
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.onestop.credentials import credential, hash_data, proof_config, sign, verification_method
from cityos.runtime import Runtime
from cityos.store.engine import Database, null_pool_engine
from cityos.store.migrate import upgrade

PG_ADMIN = os.environ.get("CITYOS_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

TARGET_ISSUE = 1_000
TARGET_VERIFY = 2_000
HOLDER = "urn:ngsi-ld:Organization:91310101MA1FPX1234"
CLAIMS = {
    "operatorName": "上海黄浦示例餐饮有限公司",
    "creditCode": "91310101MA1FPX1234",
    "permitNumber": "JY13101010001",
    "premises": "上海市黄浦区示例路1号",
    "businessItems": "热食类食品制售",
}


CPU: dict[str, list[float]] = {}  # per figure: operations per second of this process's CPU time (all threads)


def rate(n: int, fn: Callable[[int], Any], cpu: str | None = None) -> float:
    """Operations/s of wall time; with ``cpu``, also per second of the process's CPU time, kept in CPU[cpu]: on a
    machine shared with others the wall figure carries their load, the CPU figure much less of it."""
    start, start_cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        fn(i)
    if cpu is not None:
        CPU.setdefault(cpu, []).append(n / max(time.process_time() - start_cpu, 1e-9))
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--n", type=int, default=2000, help="operations per run and figure")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (the median is printed)")
    parser.add_argument("--callers", type=int, default=4, help="threads issuing at once, each one at a time")
    args = parser.parse_args()
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory() as where:
            url, drop = database(kind, Path(where))
            settings = Settings(data_dir=Path(where), database_url=url, seal_secret="a bench secret of the seals")
            db = Database(url)
            upgrade(db)
            rt = Runtime(settings, db, MemoryBus())
            try:
                run(rt, kind, args.n, args.repeats, args.callers)
            finally:
                rt.close()
                db.dispose()
                drop()


def database(kind: str, where: Path) -> tuple[str, Callable[[], None]]:
    """The URL of a new empty database of ``kind``, and what drops it."""
    if kind == "sqlite":
        return f"sqlite:///{where}/cityos.db", lambda: None
    name = f"cityos_bench_{uuid.uuid4().hex[:8]}"
    admin = null_pool_engine(PG_ADMIN)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, drop


def commit_floor(db: Database, n: int, row: str) -> float:
    """INSERT + COMMIT/s of one row of ``row``'s size at a time through the DB-API driver (no SQLAlchemy)."""
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        mark = "?" if db.is_sqlite else "%s"
        cur.execute("CREATE TABLE IF NOT EXISTS bench_commit_floor (id VARCHAR(64) PRIMARY KEY, doc TEXT)")
        raw.commit()
        if db.is_sqlite:  # the engine's connections run in autocommit mode: BEGIN as cityos's writes do

            def one(i: int) -> None:
                cur.execute("BEGIN IMMEDIATE")
                cur.execute(f"INSERT INTO bench_commit_floor VALUES ({mark}, {mark})", (uuid.uuid4().hex, row))
                cur.execute("COMMIT")
        else:

            def one(i: int) -> None:
                cur.execute(f"INSERT INTO bench_commit_floor VALUES ({mark}, {mark})", (uuid.uuid4().hex, row))
                raw.commit()

        return rate(n, one)
    finally:
        raw.close()


def statement_floor(db: Database, n: int, row: str) -> float:
    """INSERT/s of one row at a time, each its own transaction (autocommit: committed as it returns), through the
    DB-API driver: one round trip each on PostgreSQL."""
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if db.is_sqlite:  # the engine's connections are in autocommit mode already: a bare INSERT commits
            mark = "?"
        else:
            raw.commit()
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            mark = "%s"
        cur.execute("CREATE TABLE IF NOT EXISTS bench_commit_floor (id VARCHAR(64) PRIMARY KEY, doc TEXT)")
        return rate(n, lambda i: cur.execute(f"INSERT INTO bench_commit_floor VALUES ({mark}, {mark})",
                                             (uuid.uuid4().hex, row)))  # fmt: skip
    finally:
        if not db.is_sqlite:
            raw.driver_connection.autocommit = False  # type: ignore[union-attr]
        raw.close()


def concurrently(callers: int, n: int, fn: Callable[[int], Any]) -> float:
    """Operations/s of ``callers`` threads each running ``fn`` n // callers times, one after another."""
    each = max(1, n // callers)
    threads = [threading.Thread(target=lambda: [fn(i) for i in range(each)]) for _ in range(callers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return each * callers / (time.perf_counter() - start)


def run(rt: Runtime, kind: str, n: int, repeats: int, callers: int) -> None:
    first = onestop.issue_credential(rt, "FoodBusinessPermit", HOLDER, CLAIMS, "market-regulation")
    seal = onestop.seals_ring(rt).seal("default", "market-regulation", "市场监督管理局")
    key, public = seal.private, seal.private.public_key()
    doc = {k: v for k, v in first.document.items() if k != "proof"}
    config = proof_config(doc, method=verification_method(public), created=doc["validFrom"])
    data = hash_data(doc, config)
    signature = key.sign(data)
    now = datetime.now(UTC)
    office = "market-regulation"
    lists = {onestop.list_url(rt, office, p): onestop.status_list_credential(rt, office, p)
             for p in ("revocation", "suspension")}  # fmt: skip
    seals = {s.key: s for s in onestop.published_seals(rt, "default")}
    opened = {url: onestop.open_list(listed, seals) for url, listed in lists.items()}  # a verifier opens each once

    def issue(i: int) -> Any:
        return onestop.issue_credential(rt, "FoodBusinessPermit", HOLDER, CLAIMS, office)

    def make(i: int) -> dict[str, Any]:
        unsigned = credential(credential_id=f"urn:uuid:bench-{i}", contexts=doc["@context"], types=doc["type"],
                              issuer=doc["issuer"], valid_from=doc["validFrom"], valid_until=doc.get("validUntil"),
                              subject=doc["credentialSubject"], schema_url=doc["credentialSchema"]["id"],
                              status=doc["credentialStatus"])  # fmt: skip
        return sign(unsigned, key, created=doc["validFrom"])

    names = ("raw sign", "sign", "issue", "issue x100", "issue callers", "commit floor", "statement floor",
             "raw verify", "verify")  # fmt: skip
    row = orjson.dumps(first.document).decode()
    figures: dict[str, list[float]] = {k: [] for k in names}
    batch = [onestop.IssueRequest("FoodBusinessPermit", HOLDER, CLAIMS, office)] * 100
    for _ in range(repeats):
        figures["raw sign"].append(rate(n, lambda i: key.sign(data), cpu="raw sign"))
        figures["sign"].append(rate(n, make, cpu="sign"))
        figures["issue"].append(rate(n, issue, cpu="issue"))
        figures["issue x100"].append(rate(n // 100, lambda i: onestop.issue_many(rt, batch)) * 100)
        figures["issue callers"].append(concurrently(callers, n, issue))
        figures["commit floor"].append(commit_floor(rt.db, n, row))
        figures["statement floor"].append(statement_floor(rt.db, n, row))
        figures["raw verify"].append(rate(n, lambda i: public.verify(signature, data)))
        figures["verify"].append(rate(n, lambda i: onestop.verify_credential(first.document, seals, opened.get, now)))
    assert onestop.verify_credential(first.document, seals, opened.get, now).ok
    med = {k: statistics.median(v) for k, v in figures.items()}
    sign_, verify_ = med["raw sign"], med["raw verify"]

    def line(label: str, figure: float, base: float, of: str, target: int | None = None) -> None:
        met = f"   target ≥ {target:,}/s: {'met' if figure >= target else 'MISSED'}" if target else ""
        print(f"  {label:<28}{figure:>10,.0f}/s   {figure / base:.3f} of {of}{met}")

    print(f"e-certificates on {kind}, one core, medians of {repeats} runs of {n} (loaded machine: see uptime)")
    print(f"  {'raw Ed25519 sign':<28}{sign_:>10,.0f}/s")
    line("sign (build + proof)", med["sign"], sign_, "raw sign")
    line("issue, one at a time", med["issue"], sign_, "raw sign", TARGET_ISSUE)
    line("issue, 100 a commit", med["issue x100"], sign_, "raw sign", TARGET_ISSUE)
    line(f"issue, {callers} callers 1 at a time", med["issue callers"], sign_, "raw sign", TARGET_ISSUE)
    floor, one = med["commit floor"], med["statement floor"]
    print(f"  {'commit floor (INSERT+COMMIT)':<28}{floor:>10,.0f}/s   one at a time issues at "
          f"{med['issue'] / floor:.2f} of it")  # fmt: skip
    print(f"  {'one-statement floor':<28}{one:>10,.0f}/s   one at a time issues at {med['issue'] / one:.2f} of it")
    print(f"  {'raw Ed25519 verify':<28}{verify_:>10,.0f}/s")
    line("verify (+ status)", med["verify"], verify_, "raw verify", TARGET_VERIFY)
    cpu = {k: statistics.median(v) for k, v in CPU.items()}
    print(f"  per second of CPU time: raw sign {cpu['raw sign']:,.0f}, sign {cpu['sign']:,.0f} "
          f"({cpu['sign'] / cpu['raw sign']:.3f}), issue one at a time {cpu['issue']:,.0f} "
          f"({cpu['issue'] / cpu['raw sign']:.3f}; the waits for the database are not in it)")  # fmt: skip
    CPU.clear()
    print(f"  load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")


if __name__ == "__main__":
    main()
