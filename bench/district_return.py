"""Benchmark of the district return (数据属地返还, issue 18 item 5). Prints figures; asserts nothing.

N city records in the city tenant (half persons whose registered address names their district, half
streetlights whose location lies in their district's box), spread over 8 districts; a standing return grant
of both entries to one district's tenant (its polygon and its name). Then:

  - the first full run (every record read, the district's share written new);
  - full runs again (every record read and compared, nothing written): the median of --repeats;
  - incremental runs, each after changing --change of the city's records (1 %, spread over every district):
    the median of --repeats; the records each read and wrote.

The ratio incremental / full is the figure: an incremental run reads only what changed since the watermark
(the (tenant, modified_at) index) and writes only what changed in the district. The overlap that re-reads
the last moments before the watermark (CITYOS_RETURN_OVERLAP_SECONDS) is set to 0 here, so that the records
seeded in the last second do not count as changed.

Run: .venv/bin/python bench/district_return.py [--records N] [--repeats N] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import fresh_database
from cityos import context as hub
from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.core.timefmt import now_iso
from cityos.datahub import CatalogueEntry, DataItem, OpeningType, SharingType
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade
from cityos.tuning import tune_process

CITY, DISTRICT = "default", "huangpu"
DISTRICTS = ("黄浦区", "静安区", "徐汇区", "长宁区", "普陀区", "虹口区", "杨浦区", "浦东新区")
CHUNK = 5000


def _entry(code: str, etype: str, items: tuple[DataItem, ...]) -> CatalogueEntry:
    return CatalogueEntry(code=code, name=f"{etype} (bench)", abstract="bench", provider="big-data",
                          classification=("bench",), format="database", items=items,
                          sharing=SharingType.CONDITIONAL, opening=OpeningType.NONE, update_cycle="daily",
                          published="2026-01-01", sharing_conditions="bench",
                          backing=datahub.Backing(entity_types=(etype,)))  # fmt: skip


PERSON_ITEMS = (
    DataItem("name", "姓名", "name", "general-3"),
    DataItem("registeredAddress", "户籍地址", "address", "general-3"),
)
LIGHT_ITEMS = (DataItem("status", "状态", "code", "general-1"), DataItem("location", "位置", "geo", "general-2"))
ENTRIES = (_entry("BR-01-0001", "Person", PERSON_ITEMS), _entry("BR-02-0001", "Streetlight", LIGHT_ITEMS))


def box(d: int) -> list[list[list[float]]]:
    """District d's box: 8 boxes of 0.1° in a 4 × 2 grid."""
    x, y = 121.0 + 0.1 * (d % 4), 31.0 + 0.1 * (d // 4)
    return [[[x, y], [x + 0.1, y], [x + 0.1, y + 0.1], [x, y + 0.1], [x, y]]]


def record(n: int, rng: random.Random, version: int = 0) -> dict[str, Any]:
    d = n % len(DISTRICTS)
    if n % 2:
        return {"id": f"urn:ngsi-ld:Person:b{n}", "type": "Person",
                "name": {"type": "Property", "value": f"居民{n}-{version}"},
                "registeredAddress": {"type": "Property", "value": f"上海市{DISTRICTS[d]}某路{n % 800}号"}}  # fmt: skip
    x, y = box(d)[0][0]
    point = [round(x + 0.001 + rng.random() * 0.098, 6), round(y + 0.001 + rng.random() * 0.098, 6)]
    return {"id": f"urn:ngsi-ld:Streetlight:b{n}", "type": "Streetlight",
            "status": {"type": "Property", "value": f"on-{version}"},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": point}}}  # fmt: skip


def write(rt: Runtime, tenant: str, bodies: list[dict[str, Any]]) -> None:
    tm = hub.core_term_map()
    for start in range(0, len(bodies), CHUNK):
        now = now_iso()
        ops = [(b["id"], hub.m_replace(hub.parse_entity(b, tm, now=now), create=True))
               for b in bodies[start : start + CHUNK]]  # fmt: skip
        hub.apply(rt, tenant, ops, creates=True)


def timed(fn: Callable[[], datahub.ReturnRun]) -> tuple[float, datahub.ReturnRun]:
    t = time.perf_counter()
    run = fn()
    return time.perf_counter() - t, run


def bench_db(kind: str, args: argparse.Namespace, tmp: Path) -> None:
    db, drop = fresh_database(kind, tmp)
    try:
        upgrade(db)
        rt = Runtime(Settings(database_url=db.url, data_dir=tmp, return_overlap_seconds=0), db, MemoryBus())
        for entry in ENTRIES:
            datahub.register_entry(rt, CITY, entry, by="bench")
        rng = random.Random(7)
        t = time.perf_counter()
        write(rt, CITY, [record(n, rng) for n in range(args.records)])
        write(rt, DISTRICT, [{"id": "urn:ngsi-ld:District:huangpu", "type": "District"}])
        print(f"{kind}: {args.records:,} city records over {len(DISTRICTS)} districts seeded in "
              f"{time.perf_counter() - t:.1f} s")  # fmt: skip
        grant = datahub.make_return(rt, DISTRICT, DISTRICTS[0], [e.code for e in ENTRIES], by="bench",
                                    area={"type": "Polygon", "coordinates": box(0)})  # fmt: skip
        first, run = timed(lambda: datahub.run_return(rt, grant.id, by="bench"))
        print(f"  first full run: {first:6.2f} s  read {run.read:,}, new {run.new:,}")
        fulls = [timed(lambda: datahub.run_return(rt, grant.id, by="bench", full=True)) for _ in range(args.repeats)]
        full = statistics.median(s for s, _ in fulls)
        print(f"  full run (median of {args.repeats}): {full:6.2f} s  read {fulls[-1][1].read:,}, "
              f"unchanged {fulls[-1][1].unchanged:,}, written {fulls[-1][1].touched:,}")  # fmt: skip
        incs: list[tuple[float, datahub.ReturnRun]] = []
        changed = max(1, int(args.records * args.change))
        for version in range(1, args.repeats + 1):
            picked = rng.sample(range(args.records), changed)
            write(rt, CITY, [record(n, rng, version) for n in picked])
            incs.append(timed(lambda: datahub.run_return(rt, grant.id, by="bench")))
        inc = statistics.median(s for s, _ in incs)
        last = incs[-1][1]
        print(f"  incremental run after changing {changed:,} records ({args.change:.0%}; median of {args.repeats}): "
              f"{inc:6.3f} s  read {last.read:,}, new {last.new:,}, changed {last.changed:,}, "
              f"removed {last.removed:,}")  # fmt: skip
        print(f"  incremental / full: {inc / full:.3f}  (incremental / first full: {inc / first:.3f})")
        rt.close()
    finally:
        drop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--records", type=int, default=50_000, help="city records (default 50,000: about a minute)")
    ap.add_argument("--change", type=float, default=0.01, help="share of the records changed before each "
                    "incremental run (default 1 %%)")  # fmt: skip
    ap.add_argument("--repeats", type=int, default=3, help="runs of each measure; the median is printed")
    args = ap.parse_args()
    tune_process()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            bench_db(kind, args, Path(tmp))


if __name__ == "__main__":
    main()
