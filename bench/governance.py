"""Benchmark of reads through the data resource system's rules. Prints figures; asserts nothing.

On SQLite and on PostgreSQL: 1,000 records of a personal dataset of 20 items, read in one page
  - plain: the data hub's query of the entity type and the records in keyValues form (no governance);
  - governed: ``datahub.datasets.read_records`` by a department through a grant for its scenario (the
    grant looked up, the decision, each record cut and its masked items masked, one audit record appended).
The figure is the difference of the p95s (the target, issue 17: a governed read adds at most 2 ms p95)
and the ratio of the medians, from --repeats reads of each, interleaved.

Run: .venv/bin/python bench/governance.py [--records N] [--repeats N] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import fresh_database, runtime
from cityos import context as hub
from cityos.datahub import (
    Backing,
    CatalogueEntry,
    DataItem,
    OpeningType,
    SharingType,
    move_grant,
    register_entry,
    request_grant,
)
from cityos.datahub.datasets import Reader, read_records
from cityos.runtime import Runtime

TARGET_MS = 2.0
KINDS = ("id-card", "name", "mobile", "address", "text", "number", "date", "email", "geo", "code")


def _entry() -> CatalogueEntry:
    items = tuple(
        DataItem(f"item{i:02d}", f"数据项{i}", KINDS[i % len(KINDS)], "important" if i % 2 else "general-1")
        for i in range(20)
    )
    return CatalogueEntry(
        code="HP-01-01-0099", name="基准测试人口数据", abstract="bench", provider="public-security",
        classification=("基础信息", "人口"), format="database", items=items, sharing=SharingType.CONDITIONAL,
        opening=OpeningType.NONE, update_cycle="daily", published="2026-01-01", sharing_conditions="bench",
        backing=Backing(entity_types=("BenchPerson",)),
    )  # fmt: skip


def _value(kind: str, n: int) -> object:
    return {"id-card": f"31010119900101{n % 10000:04d}", "mobile": f"138{n % 10**8:08d}", "number": n,
            "geo": {"type": "Point", "coordinates": [121.48, 31.23]}}.get(kind, f"值{n}")  # fmt: skip


def _load(rt: Runtime, entry: CatalogueEntry, n: int) -> None:
    tm = hub.core_term_map()
    ops = []
    for k in range(n):
        body = {"id": f"urn:ngsi-ld:BenchPerson:{k}", "type": "BenchPerson"}
        body |= {i.name: {"type": "Property", "value": _value(i.kind, k)} for i in entry.items}
        ops.append((body["id"], hub.m_create(hub.parse_entity(body, tm, now="2026-01-01T00:00:00Z"))))
    for start in range(0, n, 500):
        hub.apply(rt, "default", ops[start : start + 500], creates=True)


def _p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


def run(kind: str, records: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db, drop = fresh_database(kind, Path(tmp))
        rt = runtime(db)
        try:
            entry = _entry()
            register_entry(rt, "default", entry, by="bench")
            _load(rt, entry, records)
            now = datetime.now(UTC)
            items = [i.name for i in entry.items]
            asked = request_grant(rt, "default", entry, "civil-affairs", "bench", "bench", "bench", items, None,
                                  now + timedelta(days=1), "general-1", "bench")  # fmt: skip
            move_grant(rt, "default", entry, asked.grant.id, "approve", "bench", "public-security")
            reader = Reader("bench", "civil-affairs", False, "bench", "bench")
            tm = hub.core_term_map()
            query = hub.EntityQuery(type="BenchPerson", limit=records, count=True)
            plain, governed = [], []
            for _ in range(repeats):
                t = time.perf_counter()
                result = hub.query_entities(rt, "default", query, tm)
                rows = [hub.key_values(r.id, r.types, r.attrs, tm) for r in result.rows]
                plain.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                read = read_records(rt, "default", entry.code, reader, limit=records)
                governed.append((time.perf_counter() - t) * 1000)
            assert len(rows) == len(read.records) == records
            added = _p95(governed) - _p95(plain)
            print(f"{kind:10s} {records} records x 20 items, {repeats} reads each")
            print(f"  plain    p50 {statistics.median(plain):7.1f} ms  p95 {_p95(plain):7.1f} ms")
            print(f"  governed p50 {statistics.median(governed):7.1f} ms  p95 {_p95(governed):7.1f} ms")
            print(f"  added p95 {added:+.1f} ms (target <= {TARGET_MS} ms); ratio of medians "
                  f"{statistics.median(governed) / statistics.median(plain):.2f}")  # fmt: skip
        finally:
            rt.close()
            drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        run(kind, args.records, args.repeats)


if __name__ == "__main__":
    main()
