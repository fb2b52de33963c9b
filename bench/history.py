"""Benchmark of the attribute history (temporal API reads). Prints figures; asserts nothing.

Loads N instances (default 10 million: 1,000 sensors x 10,000 one-minute readings, about a week)
straight into context_attr_history, then measures through the temporal service functions:
  - a one-day, one-attribute history query of one sensor (1,440 instances), p50/p95;
  - a one-week hourly aggregate (avg, min, max, totalCount) of one sensor's attribute, p50/p95;
beside the time to read the same rows with a plain SELECT of the primary-key range (the baseline).

Run: .venv/bin/python bench/history.py [--instances N]   (PostgreSQL needs the local server)
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import fresh_database, pct
from cityos.context.temporal.history import ensure_month_partitions
from cityos.context.temporal.params import Aggregation, TimeRange
from cityos.context.temporal.reads import aggregate, fetch_instances
from cityos.core.timefmt import from_ms, to_ms
from cityos.store.engine import Database
from cityos.store.migrate import upgrade
from cityos.tuning import tune_process

ATTR = "https://uri.etsi.org/ngsi-ld/default-context/pm25"
START = to_ms("2026-11-14T00:00:00.000Z")
MINUTE = 60_000
DAY = 1_440 * MINUTE


def load(db: Database, sensors: int, per_sensor: int) -> float:
    """Insert the history rows in bulk (COPY on PostgreSQL); returns rows/s."""
    rnd = random.Random(7)
    written = from_ms(START)
    t0 = time.perf_counter()
    if db.is_sqlite:
        sql = (
            "INSERT INTO context_attr_history (tenant, entity_id, attr, dataset_id, ts, instance, written_at) "
            "VALUES ('bench', ?, ?, '', ?, ?, ?)"
        )
        with db.engine.begin() as conn:
            for s in range(sensors):
                eid = f"urn:ngsi-ld:AirQualityObserved:s{s:05d}"
                rows = []
                for k in range(per_sensor):
                    ts = START + k * MINUTE
                    inst = {
                        "type": "Property",
                        "value": rnd.randint(5, 250),
                        "unitCode": "GQ",
                        "observedAt": from_ms(ts),
                    }
                    rows.append((eid, ATTR, ts, orjson.dumps(inst).decode(), written))
                conn.exec_driver_sql(sql, rows)
    else:
        with db.engine.begin() as conn:
            ensure_month_partitions(conn, {START, START + per_sensor * MINUTE})
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            for s in range(sensors):
                eid = f"urn:ngsi-ld:AirQualityObserved:s{s:05d}"
                buf = io.StringIO()
                for k in range(per_sensor):
                    ts = START + k * MINUTE
                    inst = orjson.dumps(
                        {"type": "Property", "value": rnd.randint(5, 250), "unitCode": "GQ", "observedAt": from_ms(ts)}
                    ).decode()
                    buf.write(f"bench\t{eid}\t{ATTR}\t\t{ts}\t{inst}\t{written}\n")
                with cur.copy(
                    "COPY context_attr_history (tenant, entity_id, attr, dataset_id, ts, instance, "
                    "written_at) FROM STDIN"
                ) as copy:
                    copy.write(buf.getvalue())
            raw.commit()
        finally:
            raw.close()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return sensors * per_sensor / (time.perf_counter() - t0)


def measure(db: Database, sensors: int, per_sensor: int, runs: int) -> dict[str, float]:
    rnd = random.Random(11)
    span = per_sensor * MINUTE
    day_q, week_a, base = [], [], []
    with db.connect() as conn:
        for _ in range(runs):
            eid = f"urn:ngsi-ld:AirQualityObserved:s{rnd.randrange(sensors):05d}"
            day0 = START + rnd.randrange(max(1, (span - DAY) // MINUTE)) * MINUTE
            rng = TimeRange(day0, day0 + DAY)
            t0 = time.perf_counter()
            conn.exec_driver_sql(
                "SELECT ts, instance FROM context_attr_history WHERE tenant = 'bench' AND entity_id = "
                + ("?" if db.is_sqlite else "%s")
                + " AND attr = "
                + ("?" if db.is_sqlite else "%s")
                + " AND dataset_id = '' AND ts >= "
                + str(day0)
                + " AND ts < "
                + str(day0 + DAY),
                (eid, ATTR),
            ).all()
            base.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            got = fetch_instances(conn, "bench", [eid], [ATTR], rng)
            day_q.append((time.perf_counter() - t0) * 1000)
            assert sum(len(v) for v in got.values()) > 0
            week = TimeRange(START, START + 7 * DAY)
            t0 = time.perf_counter()
            aggregate(
                conn, "bench", [eid], [ATTR], week, Aggregation(("avg", "min", "max", "totalCount"), 3_600_000, START)
            )
            week_a.append((time.perf_counter() - t0) * 1000)
    return {
        "base_p50": pct(base, 50),
        "base_p95": pct(base, 95),
        "day_p50": pct(day_q, 50),
        "day_p95": pct(day_q, 95),
        "week_p50": pct(week_a, 50),
        "week_p95": pct(week_a, 95),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    tune_process()
    per_sensor = 10_080 if args.instances >= 10_080 else args.instances  # a week of minutes
    sensors = max(1, args.instances // per_sensor)
    print(
        f"cityos history benchmark: {sensors * per_sensor:,} instances ({sensors:,} sensors x {per_sensor:,} "
        f"one-minute readings), {args.runs} queries each"
    )
    with tempfile.TemporaryDirectory() as d:
        for kind in ("sqlite", "postgresql"):
            db, drop = fresh_database(kind, Path(d))
            try:
                upgrade(db)
                rate = load(db, sensors, per_sensor)
                r = measure(db, sensors, per_sensor, args.runs)
                print(f"\n[{kind}] loaded at {rate:,.0f} rows/s (bulk, outside the hub)")
                print(
                    f"  one-day, one-attribute query (1,440 instances)  p50 {r['day_p50']:.1f} ms  "
                    f"p95 {r['day_p95']:.1f} ms   (plain SELECT of the same rows: p50 {r['base_p50']:.1f} ms)"
                )
                print(
                    f"  one-week hourly aggregate (avg,min,max,count)   p50 {r['week_p50']:.1f} ms  "
                    f"p95 {r['week_p95']:.1f} ms"
                )
            finally:
                drop()


if __name__ == "__main__":
    main()
