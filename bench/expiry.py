"""What leaving expired attribute instances out of q and aggregation costs (NGSI-LD 4.22). Prints figures;
asserts nothing.

The type+q query of bench/context.py (``pm25>T;temperature<30``, a page of 20, T random) and an ``avg``
aggregation of one entity's history, on N stations of which every tenth holds its pm25 as two instances, one
expired. Run it from a tree to measure that tree's cityos (before/after: run a copy of main's tree with this
script copied into its bench/, and this tree, alternately).

Run: .venv/bin/python bench/expiry.py [--db sqlite|postgresql|both] [--entities N] [--runs R]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from context import fresh_database, pct, runtime, station, upsert_rate  # bench/context.py

from cityos.context import core_term_map
from cityos.context.query import EntityQuery, query_entities
from cityos.context.temporal.params import parse_aggregation, parse_time_range
from cityos.context.temporal.reads import aggregate

PAST = "2020-01-01T00:00:00Z"


def transient_station(n: int, rnd: random.Random) -> dict[str, Any]:
    doc = station(n, rnd)
    if n % 10 == 0:  # a second pm25 instance, expired, that a q on pm25 must pass over
        gone = {**doc["pm25"], "value": 999, "datasetId": "urn:ngsi-ld:d:old", "expiresAt": PAST}
        doc["pm25"] = [doc["pm25"], gone]
    return doc


def bench(kind: str, n: int, runs: int, tmp: Path) -> dict[str, float]:
    db, drop = fresh_database(kind, tmp)
    try:
        rt = runtime(db)
        rnd = random.Random(3)
        upsert_rate(rt, [transient_station(i, rnd) for i in range(n)])
        tm = core_term_map()
        iri = tm.expand("pm25")
        rng = parse_time_range(None, None, None, None)
        aggr = parse_aggregation("avg,totalCount", None, rng)
        qt, at = [], []
        for _ in range(runs):
            query = EntityQuery(type="AirQualityObserved", q=f"pm25>{rnd.randint(5, 250)};temperature<30", limit=20)
            t0 = time.perf_counter()
            query_entities(rt, "bench", query, tm)
            qt.append((time.perf_counter() - t0) * 1000)
            ids = [f"urn:ngsi-ld:AirQualityObserved:b{rnd.randrange(0, n, 10):06d}"]
            t0 = time.perf_counter()
            with db.connect() as conn:
                aggregate(conn, "bench", ids, [iri], rng, aggr)
            at.append((time.perf_counter() - t0) * 1000)
        return {"q_p50_ms": statistics.median(qt), "q_p95_ms": pct(qt, 95), "aggr_p50_ms": statistics.median(at)}
    finally:
        drop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--entities", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            figures = bench(kind, args.entities, args.runs, Path(tmp))
            print(kind, " ".join(f"{k}={v:.2f}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
