"""Benchmark of feed runs into a base registry (issue 18, items 1 and 2). Prints figures; asserts nothing.

``--registry persons`` (the default):
The demo's fictitious persons (cityos.demo.registries) as records of HP-01-01-0001 户籍人口基本信息 (the demo
catalogue), fed by its source, public security, into a fresh database (SQLite, or PostgreSQL with ``--db``),
each round on databases of its own:

  - baseline: the data hub's raw batch upsert of the same Person entities (``context.apply`` of merge-or-create
    mutations, 1,000 per transaction, the same ids), on a database of its own;
  - a feed run of the records (every record new): checks, keyed-hash ids, per-item sources, the merge, the
    stored run, until the report is returned; the ratio to the baseline; then until the quality run of its
    records, made in the background after the feed's commit, is done;
  - the same feed again (every record unchanged: the idempotent rerun);
  - another department's feed of the same records with a share disagreeing on the name (the conflicts).

Medians of ``--repeats`` rounds, wall and CPU time (the process's, every thread). The process is tuned as
every cityos process that feeds is (``cityos.tuning``: the collector's thresholds).

``--registry legal-entities``: the demo's fictitious enterprises as records of HP-02-01-0001 企业登记基本信息 fed by
market regulation (baseline: the raw upsert of the same Organization entities), then tax's feed (HP-02-04-0001)
of the same enterprises with a share of names disagreeing (the conflicts). ``--registry places``: the demo
district's buildings (about 340, repeated with new building codes up to ``--records``) fed by planning and
natural resources (HP-03-03-0001), then housing's feed (HP-08-05-0001) with a share of floors disagreeing.

Target (issue 18): a feed of 100,000 person records merged in at most 30 s on SQLite.

Run: .venv/bin/python bench/feeds.py [--records N] [--registry persons|legal-entities|places] [--repeats R]
     [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import fresh_database
from cityos import context as hub
from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.core.timefmt import now_iso
from cityos.demo import registries as reg
from cityos.demo.district import build_district
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade
from cityos.tuning import tune_process

TARGET_S = 30.0
CODE = "HP-01-01-0001"
ITEMS = ("idCard", "name", "gender", "birthDate", "mobile", "registeredAddress")
COMPANY_ITEMS = ("creditCode", "name", "kind", "legalRepresentative", "domicile", "foundedOn")
CHUNK = 1000
MARRIAGES = "HP-11-03-9001"  # the bench's own civil affairs entry: the source of marital status, citing the name


def marriage_entry() -> datahub.CatalogueEntry:
    base = next(e for e in datahub.read_catalogue().entries if e.provider == "civil-affairs")
    ps, item = "public-security", datahub.DataItem
    items = (item("idCard", "公民身份号码", "id-card", "important", key="person.idCard", source=ps),
             item("name", "姓名", "name", "general-3", key="person.name", source=ps),
             item("maritalStatus", "婚姻状况", "code", "general-3", key="person.maritalStatus"))  # fmt: skip
    return replace(base, code=MARRIAGES, name="婚姻状况（基准测试）", items=items)


@dataclass(frozen=True)
class Case:
    """One registry's bench: its first feed (entry, source, key item, entity type) and a second department's."""

    code: str
    source: str
    key: str
    entity_type: str
    records: list[dict[str, Any]]
    other_code: str
    other: str
    offered: list[dict[str, Any]]
    planted: int


def persons_case(count: int, disagree: float) -> Case:
    people = reg.persons(count)
    other = reg.second_feed(people, {"name": ("王芳", "李强"), "maritalStatus": reg.MARITAL_STATUS}, disagree,
                            by="idCard", seed=5)  # fmt: skip
    offered = [{k: r[k] for k in ("idCard", "name", "maritalStatus")} for r in other.records]
    return Case(CODE, "public-security", "idCard", "Person", [{k: p[k] for k in ITEMS} for p in people],
                MARRIAGES, "civil-affairs", offered, sum(d.item == "name" for d in other.defects))  # fmt: skip


def legal_entities_case(count: int, disagree: float) -> Case:
    companies = reg.entities(count)
    tax = reg.tax_records(companies, disagree, seed=5)
    return Case("HP-02-01-0001", "market-regulation", "creditCode", "Organization",
                [{k: c[k] for k in COMPANY_ITEMS} for c in companies], "HP-02-04-0001", "tax", tax.records,
                len(tax.defects))  # fmt: skip


def places_case(count: int, disagree: float) -> Case:
    district = [e for e in build_district(sensors=13) if e["type"] == "Building"]
    buildings = []
    for n in range(count):  # the district's buildings, then copies under new codes up to ``count``
        b = district[n % len(district)]
        buildings.append({**b, "id": b["id"] if n < len(district) else f"urn:ngsi-ld:Building:HP-C{n:07d}"})
    housing = reg.housing_records(buildings, disagree, seed=5)
    return Case("HP-03-03-0001", "planning-resources", "buildingCode", "Building", reg.building_records(buildings),
                "HP-08-05-0001", "housing", housing.records, len(housing.defects))  # fmt: skip


CASES = {"persons": persons_case, "legal-entities": legal_entities_case, "places": places_case}


def runtime(db: Database, tmp: Path) -> Runtime:
    upgrade(db)
    rt = Runtime(Settings(database_url=db.url, data_dir=tmp), db, MemoryBus())
    datahub.load_catalogue(rt, "default")
    datahub.register_entry(rt, "default", marriage_entry(), by="bench")
    return rt


def raw_upsert(rt: Runtime, case: Case, registry: str) -> None:
    """The baseline: the same entities written by the hub's batch upsert, with no feed logic around it."""
    tm = hub.term_map(rt)
    writer = hub.Writer(case.source)
    for start in range(0, len(case.records), CHUNK):
        ops = []
        now = now_iso()
        for r in case.records[start : start + CHUNK]:
            eid = datahub.registry_entity_id(rt, registry, r[case.key])
            values = {k: {"type": "Property", "value": v} for k, v in r.items() if k != "source"}
            body = {"id": eid, "type": case.entity_type, **values}
            ops.append((eid, hub.m_merge(hub.parse_entity(body, tm, now=now), create=True)))
        hub.apply(rt, "default", ops, creates=True, writer=writer)


Timing = tuple[float, float]  # wall, CPU (s)


def timed(fn: Any) -> tuple[Timing, Any]:
    """Run ``fn``: its wall time and this process's CPU time (all threads: on a loaded machine the wall time is
    inflated, the CPU time less so), and what it returned."""
    t, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - t, time.process_time() - cpu), out


def one_round(kind: str, case: Case, registry: str, tmp: Path) -> tuple[dict[str, Timing], list[Any]]:
    """One round on fresh databases: the baseline, then the feed, its quality run, the rerun, the other feed."""
    out: dict[str, Timing] = {}
    db, drop = fresh_database(kind, tmp)
    try:
        base_rt = runtime(db, tmp)
        out["baseline"], _ = timed(lambda: raw_upsert(base_rt, case, registry))
        base_rt.close()
    finally:
        drop()
    db, drop = fresh_database(kind, tmp)
    try:
        rt = runtime(db, tmp)
        push = lambda code, dept, recs: datahub.run_feed(rt, "default", code, dept, recs, by="bench")  # noqa: E731
        start = (time.perf_counter(), time.process_time())
        out["feed"], run = timed(lambda: push(case.code, case.source, case.records))
        datahub.wait_for_quality(rt, "default", run.id)  # made in the background after the feed's commit
        out["quality"] = (time.perf_counter() - start[0], time.process_time() - start[1])
        out["rerun"], rerun = timed(lambda: push(case.code, case.source, case.records))
        datahub.wait_for_quality(rt, "default", rerun.id)
        out["other"], conflicts = timed(lambda: push(case.other_code, case.other, case.offered))
        datahub.wait_for_quality(rt, "default", conflicts.id)
        rt.close()
    finally:
        drop()
    return out, [run, rerun, conflicts]


LABELS = {
    "baseline": "baseline: the hub's raw batch upsert",
    "feed": "feed run, merged and stored (every record new)",
    "quality": "  … and its quality run done (background)",
    "rerun": "the same feed again (every record unchanged)",
    "other": "another department's feed (conflicts)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="person records (default 100,000)")
    parser.add_argument("--disagree", type=float, default=0.01, help="share of the second feed disagreeing")
    parser.add_argument("--registry", choices=sorted(CASES), default="persons", help="the base registry fed")
    parser.add_argument("--repeats", type=int, default=3, help="rounds on fresh databases; medians printed")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite",
                        help="the database (PostgreSQL: CITYOS_TEST_PG_ADMIN_URL)")  # fmt: skip
    args = parser.parse_args()
    tune_process()  # as every cityos process that feeds (serve, worker, `cityos feed`, the demo) is tuned

    case = CASES[args.registry](args.records, args.disagree)
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
        print(f"feeds of {len(case.records):,} records of {case.code} into the {args.registry} registry, {name}, "
              f"{args.repeats} rounds (load average {os.getloadavg()[0]:.1f})")  # fmt: skip
        rounds = []
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.repeats):
                took, runs = one_round(kind, case, args.registry, Path(tmp))
                rounds.append(took)
                print(f"  round {n + 1}: " + ", ".join(f"{k} {w:.1f} s / CPU {c:.1f} s" for k, (w, c) in took.items())
                      + f" (load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
        med = {k: (statistics.median(r[k][0] for r in rounds), statistics.median(r[k][1] for r in rounds))
               for k in LABELS}  # fmt: skip
        print(f"  medians of {args.repeats}:{'wall':>37} {'CPU':>10}")
        for k, label in LABELS.items():
            print(f"  {label:<52} {med[k][0]:7.2f} s  {med[k][1]:6.2f} s")
        run, rerun, conflicts = runs
        print(f"  new {run.new:,}, rejected {run.rejected:,}; rerun unchanged {rerun.unchanged:,}; "
              f"second feed conflicting {conflicts.conflicting:,} (planted {case.planted:,})")  # fmt: skip
        (feed, feed_cpu), (base, base_cpu), (checked, _) = med["feed"], med["baseline"], med["quality"]
        print(f"  feed / baseline: {feed / base:.2f}× wall, {feed_cpu / base_cpu:.2f}× CPU; with its quality run "
              f"{checked / base:.2f}× wall; target ≤ {TARGET_S:.0f} s: {'met' if feed <= TARGET_S else 'NOT met'} "
              f"({feed:.1f} s merged, {checked:.1f} s with the quality run)")  # fmt: skip


if __name__ == "__main__":
    main()
