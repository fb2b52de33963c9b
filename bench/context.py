"""Benchmark of the city data hub (NGSI-LD entities). Prints figures; asserts nothing.

Figures, each beside a baseline measured in the same run:
  1. batch upsert (entities/s, attribute updates/s) on SQLite and PostgreSQL vs plain DB-API
     executemany of the same rows (entity, type and geo index rows, attribute history) into the
     same tables;
  2. single-entity PATCH over HTTP (req/s) on a real uvicorn server (SQLite), 32 connections;
  3. p50/p95 latency of type+q queries and `near` geo-queries at 100,000 entities.

Run: make bench   (or: .venv/bin/python bench/context.py [--quick])
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.context import core_term_map
from cityos.context import service as svc
from cityos.context.entity import parse_entity
from cityos.context.geo import size_class
from cityos.context.query import EntityQuery, query_entities
from cityos.context.temporal.history import changed_instances, ensure_month_partitions
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime
from cityos.store.engine import Database, null_pool_engine
from cityos.store.migrate import upgrade
from cityos.tuning import tune_process

PG_ADMIN = os.environ.get("CITYOS_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
LON0, LAT0 = 121.465, 31.195  # south-west corner of a Huangpu-sized box
SPAN = 0.05
ATTRS_PER_ENTITY = 5  # pm25, pm10, no2, temperature, location


def station(n: int, rnd: random.Random, *, version: int = 0) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:AirQualityObserved:b{n:06d}",
        "type": "AirQualityObserved",
        "pm25": {
            "type": "Property",
            "value": rnd.randint(5, 250) + version,
            "unitCode": "GQ",
            "observedAt": "2026-11-21T08:00:00Z",
        },
        "pm10": {"type": "Property", "value": rnd.randint(10, 300), "unitCode": "GQ"},
        "no2": {"type": "Property", "value": round(rnd.uniform(5, 120), 1), "unitCode": "GQ"},
        "temperature": {"type": "Property", "value": round(rnd.uniform(-2, 38), 1), "unitCode": "CEL"},
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "Point",
                "coordinates": [round(LON0 + rnd.random() * SPAN, 6), round(LAT0 + rnd.random() * SPAN, 6)],
            },
        },
    }


def fresh_database(kind: str, tmp: Path) -> tuple[Database, Callable[[], None]]:
    if kind == "sqlite":
        db = Database(f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.db'}")
        return db, db.dispose
    name = f"cityos_bench_{uuid.uuid4().hex[:8]}"
    admin = null_pool_engine(PG_ADMIN)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(PG_ADMIN.rsplit("/", 1)[0] + "/" + name)

    def drop() -> None:
        db.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return db, drop


def runtime(db: Database, data_dir: Path | None = None) -> Runtime:
    """A runtime on ``db`` (migrated); ``data_dir``: where it keeps its files (the audit seal key), else var/."""
    upgrade(db)
    extra = {"data_dir": data_dir} if data_dir is not None else {}
    return Runtime(Settings(database_url=db.url, max_limit=1000, **extra), db, MemoryBus())


# --- 1. batch upsert vs raw executemany ---------------------------------------------------------------


def raw_insert_rate(db: Database, docs: list[dict[str, Any]]) -> float:
    """Entities/s of plain DB-API executemany of exactly the rows the hub writes for new entities.

    Per entity that is one row in context_entities, one in context_entity_types, one in
    context_entity_geo and one history row per attribute in context_attr_history, into the real
    tables with their indexes, under a tenant of its own; the
    JSON documents are serialised inside the timing, as the driver needs text. Rows are built
    from the hub's own parse outside the timing. One transaction per 1000 entities, as the hub.
    """
    tm = core_term_map()
    now = now_iso()
    parsed = [parse_entity(d, tm, now=now) for d in docs]
    rows = []
    for p in parsed:
        geo = svc.geo_rows(p.attrs)
        hist = changed_instances(p.id or "", None, p.attrs, set(p.attrs), now)
        rows.append((p.id, p.types, p.attrs, geo, hist))
    pg = not db.is_sqlite
    mark = "%s" if pg else "?"
    jsonb = "::jsonb" if pg else ""
    ins_e = (
        f"INSERT INTO context_entities (pk, tenant, id, types, scope, attrs, created_at, modified_at) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}{jsonb}, NULL, {mark}{jsonb}, {mark}, {mark})"
    )
    ins_t = f"INSERT INTO context_entity_types (entity_pk, type, tenant) VALUES ({mark}, {mark}, {mark})"
    ins_g = (
        "INSERT INTO context_entity_geo (entity_pk, attr, dataset_id, tenant, min_x, min_y, max_x, max_y, "
        f"size_class) VALUES ({', '.join([mark] * 9)})"
    )
    ins_h = (
        "INSERT INTO context_attr_history (tenant, entity_id, attr, dataset_id, ts, seq, instance, written_at) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}{jsonb}, {mark})"
    )
    with db.engine.begin() as conn:
        next_pk = conn.exec_driver_sql("SELECT coalesce(max(pk), 0) + 1 FROM context_entities").scalar()
    if pg:  # keep the sequence ahead of the explicit keys used here
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('context_entities', 'pk'), %s)", (next_pk + len(rows) + 1,)
            )
    seq = itertools.count(1)  # as the hub numbers every change of its own (its history key)
    t0 = time.perf_counter()
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        pks = range(next_pk + start, next_pk + start + len(chunk))
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                ins_e,
                [
                    (pk, "raw", i, orjson.dumps(t).decode(), orjson.dumps(a).decode(), now, now)
                    for pk, (i, t, a, _g, _h) in zip(pks, chunk, strict=True)
                ],
            )
            conn.exec_driver_sql(
                ins_t, [(pk, ty, "raw") for pk, (_i, t, _a, _g, _h) in zip(pks, chunk, strict=True) for ty in t]
            )
            conn.exec_driver_sql(
                ins_g,
                [
                    (pk, attr, ds, "raw", *box, size_class(box))
                    for pk, (_i, _t, _a, g, _h) in zip(pks, chunk, strict=True)
                    for attr, ds, box in g
                ],
            )
            if pg:
                ensure_month_partitions(conn, {h[3] for (*_x, hist) in chunk for h in hist})
            conn.exec_driver_sql(
                ins_h,
                [
                    ("raw", e, attr, ds, ts, next(seq), orjson.dumps(inst).decode(), now)
                    for (*_x, hist) in chunk
                    for e, attr, ds, ts, inst in hist
                ],
            )
    elapsed = time.perf_counter() - t0
    with db.engine.begin() as conn:
        for table in ("context_entity_geo", "context_entity_types", "context_entities", "context_attr_history"):
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE tenant = 'raw'")
    return len(rows) / elapsed


def upsert_rate(rt: Runtime, docs: list[dict[str, Any]]) -> float:
    """Entities/s through the hub's batch upsert (parse, validate, write state + indexes, publish)."""
    tm = core_term_map()
    t0 = time.perf_counter()
    for start in range(0, len(docs), 1000):
        now = now_iso()
        parsed = [parse_entity(d, tm, now=now) for d in docs[start : start + 1000]]
        outcomes = svc.apply(rt, "bench", [(p.id or "", svc.m_replace(p, create=True)) for p in parsed], creates=True)
        assert all(o.error is None for o in outcomes)
    return len(docs) / (time.perf_counter() - t0)


def bench_upsert(kind: str, n: int, tmp: Path) -> dict[str, float]:
    db, drop = fresh_database(kind, tmp)
    try:
        rt = runtime(db)
        rnd = random.Random(1)
        docs = [station(i, rnd) for i in range(n)]
        raws, creates, updates = [], [], []
        for rep in range(3):
            with db.engine.begin() as conn:  # both insert passes start from empty tables
                for t in ("context_entity_geo", "context_entity_types", "context_entities", "context_attr_history"):
                    conn.execute(text(f"DELETE FROM {t}"))
            raws.append(raw_insert_rate(db, docs))
            creates.append(upsert_rate(rt, docs))
            changed = [station(i, rnd, version=rep + 1) for i in range(n)]
            updates.append(upsert_rate(rt, changed))
        raw, create, update = (statistics.median(x) for x in (raws, creates, updates))
        return {
            "raw_rows_s": raw,
            "create_entities_s": create,
            "update_entities_s": update,
            "update_attrs_s": update * ATTRS_PER_ENTITY,
            "ratio_create": create / raw,
            "ratio_update": update / raw,
        }
    finally:
        drop()


# --- 2. PATCH over HTTP ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _patch_load(port: int, token: str, ids: list[str], seconds: float, conns: int) -> tuple[int, int]:
    """Keep-alive connections each sending PATCH requests back to back; returns (ok, failed)."""
    ok = failed = 0
    deadline = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        nonlocal ok, failed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = w
        while time.perf_counter() < deadline:
            body = orjson.dumps({"value": i % 500})
            eid = ids[i % len(ids)]
            i += conns
            writer.write(
                f"PATCH /ngsi-ld/v1/entities/{eid}/attrs/pm25 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length:
                await reader.readexactly(length)
            if b" 204 " in status_line:
                ok += 1
            else:
                failed += 1
        writer.close()

    await asyncio.gather(*(worker(w) for w in range(conns)))
    return ok, failed


def bench_patch(tmp: Path, seconds: float) -> dict[str, float]:
    db_path = tmp / "patch.db"
    env = dict(os.environ, CITYOS_DATABASE_URL=f"sqlite:///{db_path}", CITYOS_DATA_DIR=str(tmp))
    db = Database(f"sqlite:///{db_path}")
    rt = runtime(db)
    rnd = random.Random(2)
    docs = [station(i, rnd) for i in range(1000)]
    upsert_rate(rt, docs)
    from cityos.auth.service import create_token

    token = create_token(db, "bench", role="operator")
    tenant_docs = [d["id"] for d in docs]
    db.dispose()
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "cityos.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # up, and done loading what it loads in the background (the case classifier trains for a while
        # after the start): the figure is the steady state's
        for _ in range(600):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                if r.status_code == 200 and not r.json().get("loading"):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        # The bench tenant is not the default one; the server sees it through the header-less default,
        # so PATCH the default tenant's copy instead.
        rt2 = runtime(Database(f"sqlite:///{db_path}"))
        with rt2.db.engine.begin() as conn:
            conn.execute(text("UPDATE context_entities SET tenant = 'default'"))
            conn.execute(text("UPDATE context_entity_types SET tenant = 'default'"))
            conn.execute(text("UPDATE context_entity_geo SET tenant = 'default'"))
        rt2.db.dispose()
        rates = []
        for _ in range(3):
            t0 = time.perf_counter()
            ok, failed = asyncio.run(_patch_load(port, token, tenant_docs, seconds, 32))
            rates.append(ok / (time.perf_counter() - t0))
            if failed:
                print(f"  warning: {failed} PATCH requests did not answer 204")
        return {"patch_req_s": statistics.median(rates)}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- 3. queries at 100,000 entities ------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def bench_queries(kind: str, n: int, tmp: Path, runs: int) -> dict[str, float]:
    db, drop = fresh_database(kind, tmp)
    try:
        rt = runtime(db)
        rnd = random.Random(3)
        load_rate = upsert_rate(rt, [station(i, rnd) for i in range(n)])
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        tm = core_term_map()
        qt, gt = [], []
        for _ in range(runs):
            threshold = rnd.randint(5, 250)
            query = EntityQuery(type="AirQualityObserved", q=f"pm25>{threshold};temperature<30", limit=20)
            t0 = time.perf_counter()
            query_entities(rt, "bench", query, tm)
            qt.append((time.perf_counter() - t0) * 1000)
            lon, lat = LON0 + rnd.random() * SPAN, LAT0 + rnd.random() * SPAN
            geo = EntityQuery(
                type="AirQualityObserved",
                georel="near;maxDistance==300",
                geometry="Point",
                coordinates=f"[{lon:.6f},{lat:.6f}]",
                limit=20,
            )
            t0 = time.perf_counter()
            query_entities(rt, "bench", geo, tm)
            gt.append((time.perf_counter() - t0) * 1000)
        return {
            "load_entities_s": load_rate,
            "q_p50_ms": pct(qt, 50),
            "q_p95_ms": pct(qt, 95),
            "near_p50_ms": pct(gt, 50),
            "near_p95_ms": pct(gt, 95),
        }
    finally:
        drop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = ap.parse_args()
    tune_process()  # as every cityos server process does (cityos.app.create_app)
    upsert_n = 5_000 if args.quick else 20_000
    query_n = 10_000 if args.quick else 100_000
    runs = 50 if args.quick else 200
    patch_seconds = 2.0 if args.quick else 8.0
    print(f"cityos context benchmark  ({os.cpu_count()} cores; medians of 3 runs unless noted)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind in ("sqlite", "postgresql"):
            r = bench_upsert(kind, upsert_n, tmp)
            print(
                f"\n[{kind}] batch upsert of {upsert_n:,} entities ({ATTRS_PER_ENTITY} attributes each), "
                "batches of 1000"
            )
            print(f"  raw executemany, same rows  {r['raw_rows_s']:>10,.0f} entities/s  (baseline: 8 rows each)")
            print(
                f"  hub upsert, new entities    {r['create_entities_s']:>10,.0f} entities/s  "
                f"ratio {r['ratio_create']:.2f}"
            )
            print(
                f"  hub upsert, existing        {r['update_entities_s']:>10,.0f} entities/s  "
                f"= {r['update_attrs_s']:,.0f} attribute updates/s  ratio {r['ratio_update']:.2f}"
            )
        p = bench_patch(tmp, patch_seconds)
        print(f"\n[sqlite] single-entity PATCH over HTTP (uvicorn, 1 process, 32 connections, {patch_seconds:.0f}s x3)")
        print(f"  {p['patch_req_s']:,.0f} req/s")
        for kind in ("sqlite", "postgresql"):
            r = bench_queries(kind, query_n, tmp, runs)
            print(f"\n[{kind}] queries at {query_n:,} entities, {runs} each, limit 20 (service call, no HTTP)")
            print(f"  (loaded at {r['load_entities_s']:,.0f} entities/s)")
            print(f"  type+q  (pm25>X;temperature<30)  p50 {r['q_p50_ms']:.1f} ms   p95 {r['q_p95_ms']:.1f} ms")
            print(f"  near;maxDistance==300            p50 {r['near_p50_ms']:.1f} ms   p95 {r['near_p95_ms']:.1f} ms")


if __name__ == "__main__":
    main()
