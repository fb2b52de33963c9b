"""Benchmark of the cases package (cityos.cases). Prints figures; asserts nothing.

A. Reports created, classified and routed per second: --reports complaints (default 3,000) drawn from
   the shipped held-out set, each at a random point of the demo district, through
   cityos.cases.service.report (one write transaction per report, as the API makes them), one thread;
   then as many again through service.report_many, 100 a batch (classified in one pass, one
   transaction). Also the same with the category given (no classifier), and the classifier alone.
   Each rate also per CPU-second of this process (time.process_time), which a loaded machine disturbs less.
   Baseline in the same run: the database's raw rate for inserting the same case and event rows one
   transaction per case (SQLAlchemy Core insert statements built once; and the same rows through the store's
   prepared inserts, store.insert_case + store.append_events, one INSERT each); the ratio says what
   classifying, routing, time limits, duplicate search and the workflow check cost on top.
B. A department's queue (GET /cases/queue: its dispatched, accepted, in-progress and suspended cases,
   the soonest due first, 50 a page) with --cases cases stored (default 1,000,000; bulk-inserted
   rows spread over 13 departments, 61 categories and all states): p50/p95/p99 of --queries queries
   (default 300) for random departments through cityos.cases.service.queue, and the first page's
   query plan on SQLite (the partial index of queued cases, ix_cases_queued).
C. Routing alone: cases/s through cityos.cases.routing.route with fifty rules near the worst case (every
   category matches; the locations fall inside each area's bounding box but outside its polygon, so all
   fifty are evaluated in full: the set tests/cases/test_routing.py checks), best of three passes over
   10,000 cases. No database.

Run: .venv/bin/python bench/cases.py [--quick] [--db sqlite|postgresql|both] [--reports N] [--cases N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).parent))
from context import fresh_database, pct  # bench/context.py

from cityos.bus.memory import MemoryBus
from cityos.cases import service, store
from cityos.cases.classifier import load_examples
from cityos.cases.classifying import classifier
from cityos.cases.routing import RuleSet, parse_rules, route
from cityos.cases.settings import settings
from cityos.cases.tables import cases as cases_table
from cityos.cases.tables import events as events_table
from cityos.cases.timelimits import TZ
from cityos.cases.workflow import Role
from cityos.config import Settings
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade
from cityos.tuning import tune_process

TENANT = "default"
DISTRICT = (121.465, 31.215, 121.505, 31.245)  # lon/lat box of the demo district (Huangpu riverside)
STATES = (
    "reported",
    "registered",
    "dispatched",
    "accepted",
    "in_progress",
    "suspended",
    "handled",
    "verified",
    "closed",
    "closed",
    "closed",
    "closed",
    "closed",
    "cancelled",
)  # fmt: skip  (most stored cases are closed)


def runtime(db: Database, tmp: Path) -> Runtime:
    upgrade(db)
    return Runtime(Settings(database_url=db.url, data_dir=tmp), db, MemoryBus())


def point(rnd: random.Random) -> tuple[float, float]:
    return rnd.uniform(DISTRICT[0], DISTRICT[2]), rnd.uniform(DISTRICT[1], DISTRICT[3])


def reports(n: int, seed: int = 5) -> list[service.NewCase]:
    rnd = random.Random(seed)
    texts = load_examples("heldout")
    out = []
    for i in range(n):
        text_, _sub = rnd.choice(texts)
        lon, lat = point(rnd)
        # every text its own (as calls to the desk are): the classifier keeps predictions of texts seen before
        out.append(service.NewCase(source="hotline", text=f"{text_}（来电{seed}-{i}）", lon=lon, lat=lat))
    return out


# --- A ----------------------------------------------------------------------------------------------------------


CPU: dict[str, float] = {}  # per CPU-second rates of the last runs, by name: the figure a loaded machine keeps


def create_rate(rt: Runtime, batch: list[service.NewCase], name: str = "report") -> tuple[float, int, int]:
    """Reports/s through service.report; how many opened a case, how many waited for a dispatcher."""
    start, cpu = time.perf_counter(), time.process_time()
    opened = waiting = 0
    for new in batch:
        out = service.report(rt, TENANT, new, "bench-desk", Role.OPERATOR)
        opened += out.created
        waiting += out.case.needs_confirmation
    CPU[name] = len(batch) / (time.process_time() - cpu)
    return len(batch) / (time.perf_counter() - start), opened, waiting


def batch_rate(rt: Runtime, batch: list[service.NewCase], size: int) -> float:
    """Reports/s through service.report_many, ``size`` at a time (a 12345 system's hand-over)."""
    start, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(batch), size):
        service.report_many(rt, TENANT, batch[first : first + size], "bench-desk", Role.OPERATOR)
    CPU["report_many"] = len(batch) / (time.process_time() - cpu)
    return len(batch) / (time.perf_counter() - start)


def raw_rate(rt: Runtime, n: int, prepared: bool = False) -> float:
    """Rows a report writes (one case, three events), inserted one transaction per case, nothing else: through
    SQLAlchemy Core inserts built once (the baseline, as every run of this benchmark measured it), or with
    ``prepared`` through the store's prepared inserts (cityos.store.prepared, what service.report uses)."""
    rnd = random.Random(9)
    now = int(time.time() * 1000)
    insert_case, insert_events = insert(cases_table), insert(events_table)
    prefix = "RAWP" if prepared else "RAW"
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        row = synthetic_row(i, rnd, now, prefix=prefix)
        events = [{"tenant": TENANT, "case_id": row["id"], "seq": s, "at": "2026-11-21T10:00:00+08:00", "action": a,
                   "actor": "bench", "role": "system", "reason": None, "data": {}, "from_state": None,
                   "to_state": "dispatched"} for s, a in ((1, "report"), (2, "register"), (3, "dispatch"))]  # fmt: skip
        with rt.db.write() as conn:
            if prepared:
                store.insert_case(conn, row)
                store.append_events(conn, events)
            else:
                conn.execute(insert_case, [row])
                conn.execute(insert_events, events)
    CPU["raw-prepared" if prepared else "raw"] = n / (time.process_time() - cpu)
    return n / (time.perf_counter() - start)


def classify_rate(rt: Runtime, batch: list[service.NewCase]) -> float:
    model = classifier(rt)
    start, cpu = time.perf_counter(), time.process_time()
    for new in batch:
        model.predict(new.text)
    CPU["classify"] = len(batch) / (time.process_time() - cpu)
    return len(batch) / (time.perf_counter() - start)


# --- B ----------------------------------------------------------------------------------------------------------


def synthetic_row(i: int, rnd: random.Random, now_ms: int, prefix: str = "B") -> dict[str, Any]:
    s = settings_cache["s"]
    sub = rnd.choice(s.taxonomy.subs)
    lon, lat = point(rnd)
    created = now_ms - rnd.randint(0, 365 * 86_400_000)
    return {
        "tenant": TENANT, "id": f"{prefix}{i:09d}", "state": rnd.choice(STATES), "source": "hotline",
        "category": sub.code, "main_category": sub.main, "priority": sub.priority, "text": "bench",
        "address": None, "lon": lon, "lat": lat, "grid": None, "street": None, "unit": None,
        "department": rnd.choice(DEPARTMENTS), "cooperating": [], "reporter": None,
        "follow_token": f"{prefix}-{i:09d}", "attachments": [], "classification": None, "needs_confirmation": 0,
        "origin": None, "routing": None, "time_limit": sub.time_limit,
        "due_at_ms": created + rnd.randint(1, 20) * 3_600_000,
        "remind_at_ms": None, "next_escalation_ms": None, "approximate": 0, "escalation_level": "grid",
        "reminded": 0, "reports": 1, "returns": 0, "reopens": 0, "rating": None, "result": None,
        "merged_into": None, "parent": None, "created_at_ms": created, "updated_at_ms": created,
        "handled_at_ms": None, "closed_at_ms": None, "version": 3,
    }  # fmt: skip


settings_cache: dict[str, Any] = {}
DEPARTMENTS = ("city-appearance", "transport", "public-security", "ecology-environment", "water-affairs",
               "meteorology", "housing", "fire-rescue", "urban-management", "market-regulation",
               "emergency-management", "civil-affairs", "street-office")  # fmt: skip


def fill(rt: Runtime, n: int) -> float:
    rnd = random.Random(11)
    now = int(time.time() * 1000)
    start = time.perf_counter()
    chunk = 20_000
    for first in range(0, n, chunk):
        rows = [synthetic_row(i, rnd, now) for i in range(first, min(n, first + chunk))]
        with rt.db.write() as conn:
            conn.execute(insert(cases_table), rows)
        print(f"\r  stored {min(n, first + chunk):,} of {n:,} cases", end="", flush=True)
    print()
    with rt.db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - start


def queue_latency(rt: Runtime, queries: int) -> list[float]:
    rnd = random.Random(13)
    out = []
    for _ in range(queries):
        dept = rnd.choice(DEPARTMENTS)
        start = time.perf_counter()
        page = service.queue(rt, TENANT, dept, limit=50)
        out.append(time.perf_counter() - start)
        assert len(page) == 50
    return out


def plan(rt: Runtime) -> str:
    if rt.db.dialect != "sqlite":
        return ""
    q = (
        "EXPLAIN QUERY PLAN SELECT * FROM cases_cases WHERE tenant='default' AND department='transport' "
        "AND state IN ('dispatched', 'accepted', 'in_progress', 'suspended') ORDER BY due_at_ms, id LIMIT 50"
    )
    with rt.db.connect() as conn:
        return "; ".join(str(r[-1]) for r in conn.execute(text(q)))


# --- C ----------------------------------------------------------------------------------------------------------


def fifty_rules() -> RuleSet:
    """25 area rules on one triangle (working days), 24 grid rules and a night rule, all for street order."""
    triangle = {"type": "Polygon", "coordinates": [[[121.0, 31.0], [122.0, 31.0], [121.0, 32.0], [121.0, 31.0]]]}
    rules: list[dict[str, Any]] = [
        {"id": f"area-{i}", "categories": ["street-order"], "area": triangle, "days": "working-days"} for i in range(25)
    ]
    rules += [{"id": f"grid-{i}", "categories": ["street-order"], "grids": [f"urn:ngsi-ld:Grid:HP-X-{i:02d}"]}
              for i in range(24)]  # fmt: skip
    rules.append({"id": "night", "categories": ["street-order"], "hours": "22:00-06:00"})
    for r in rules:
        r["department"] = "street-office"
    return parse_rules({"rules": rules}, known_departments=frozenset(DEPARTMENTS))


def routing_rate(passes: int = 3, n: int = 10_000) -> float:
    """Cases/s through route() with fifty rules, the best of ``passes`` passes over ``n`` cases."""
    rules = fifty_rules()
    cases = [((121.5 + (i % 97) / 200, 31.5 + (i % 89) / 200), datetime(2026, 3, 4, i % 24, tzinfo=TZ))
             for i in range(n)]  # fmt: skip
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        for loc, when in cases:
            route(
                rules, category="street-vending", main_category="street-order", location=loc, grid="g", street=None,
                at=when, default_department="urban-management",
            )  # fmt: skip
        best = min(best, time.perf_counter() - start)
    return n / best


def ms(x: float) -> str:
    return f"{x * 1000:,.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="500 reports, 100,000 stored cases, SQLite only")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--reports", type=int, default=3000)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    if args.quick:
        args.reports, args.cases, args.db = 500, 100_000, "sqlite"
    tune_process()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"cityos cases benchmark: {args.reports:,} reports; queue over {args.cases:,} stored cases")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores shared: the per CPU-second rates "
          "and the ratios carry across loads, the wall rates do not)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for kind in kinds:
            db, drop = fresh_database(kind, tmp)
            try:
                rt = runtime(db, tmp)
                settings_cache["s"] = settings(rt)
                batch = reports(args.reports)
                classifier(rt).predict("预热")  # train the shipped model before timing
                print(f"\nA. [{kind}] reports created, classified and routed")
                rate, opened, waiting = create_rate(rt, batch)
                linked = args.reports - opened
                cpu = CPU["report"]
                print(f"  service.report            {rate:8,.0f} reports/s   {cpu:6,.0f}/CPU-s   ({opened:,} opened, "
                      f"{linked:,} linked as duplicates, {waiting:,} waiting for a dispatcher)")  # fmt: skip
                brate = batch_rate(rt, reports(args.reports, 6), 100)
                print(f"  service.report_many       {brate:8,.0f} reports/s   {CPU['report_many']:6,.0f}/CPU-s   "
                      "(100 a batch: classified in one pass, one transaction)")  # fmt: skip
                known = [service.NewCase(**{**b.model_dump(), "category": "streetlight-out"}) for b in reports(1000, 7)]
                krate, _, _ = create_rate(rt, known, "known")
                print(f"  with the category given   {krate:8,.0f} reports/s   {CPU['known']:6,.0f}/CPU-s   "
                      "(no classifier)")  # fmt: skip
                fresh = reports(1000, 8 + 100 * kinds.index(kind))  # texts this process has not classified
                crate = classify_rate(rt, fresh)
                print(f"  classifier alone          {crate:8,.0f} texts/s     {CPU['classify']:6,.0f}/CPU-s   "
                      "(texts not seen before)")  # fmt: skip
                base = raw_rate(rt, 1000)
                print(f"  raw rows (baseline)       {base:8,.0f} cases/s     {CPU['raw']:6,.0f}/CPU-s   "
                      "one transaction of 1 case + 3 events each, SQLAlchemy Core inserts")  # fmt: skip
                floor = raw_rate(rt, 1000, prepared=True)
                print(f"  raw rows, prepared        {floor:8,.0f} cases/s     {CPU['raw-prepared']:6,.0f}/CPU-s   "
                      "the same through the store's prepared inserts (the floor of a report's writes)")  # fmt: skip
                print(f"  ratio                     {rate / base:8.2f}          service.report / raw rows "
                      f"({cpu / CPU['raw']:.2f} per CPU-second); {brate / base:.2f} for report_many")  # fmt: skip
                print(f"\nB. [{kind}] department queue with {args.cases:,} cases stored")
                took = fill(rt, args.cases)
                print(f"  bulk insert               {args.cases / took:8,.0f} cases/s")
                lat = queue_latency(rt, args.queries)
                print(f"  queue (50 a page)    p50 {ms(statistics.median(lat))}   p95 {ms(pct(lat, 95))}   "
                      f"p99 {ms(pct(lat, 99))}   ({args.queries} queries, random departments; "
                      "target p95 ≤ 50 ms)")  # fmt: skip
                if kind == "sqlite":
                    print(f"  plan                      {plan(rt)}")
            finally:
                drop()
    print("\nC. routing alone, fifty rules near the worst case")
    print(f"  route()                   {routing_rate():8,.0f} cases/s    (best of 3 passes over 10,000 cases)")


if __name__ == "__main__":
    main()
