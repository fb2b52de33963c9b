"""Benchmark of feed runs into the persons base registry (issue 18, items 1 and 2). Prints figures; asserts
nothing.

The demo's fictitious persons (cityos.demo.registries) as records of HP-01-01-0001 户籍人口基本信息 (the demo
catalogue), fed by its source, public security, into a fresh SQLite database:

  - baseline, measured in the same run on a database of its own: the data hub's raw batch upsert of the same
    Person entities (``context.apply`` of merge-or-create mutations, 1,000 per transaction, the same ids);
  - a feed run of the records (every record new): checks, keyed-hash ids, per-item sources, the merge, the
    stored run; the ratio to the baseline;
  - the same feed again (every record unchanged: the idempotent rerun);
  - another department's feed of the same records with a share disagreeing on the name (the conflicts).

Target (issue 18): a feed of 100,000 person records merged in at most 30 s on SQLite.

Run: .venv/bin/python bench/feeds.py [--records N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityos import context as hub
from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.core.timefmt import now_iso
from cityos.demo import registries as reg
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade

TARGET_S = 30.0
CODE = "HP-01-01-0001"
ITEMS = ("idCard", "name", "gender", "birthDate", "mobile", "registeredAddress")
CHUNK = 1000


def runtime(tmp: Path) -> Runtime:
    db = Database(f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.db'}")
    upgrade(db)
    rt = Runtime(Settings(database_url=db.url, data_dir=tmp), db, MemoryBus())
    datahub.load_catalogue(rt, "default")
    return rt


def raw_upsert(rt: Runtime, records: list[dict[str, Any]]) -> None:
    """The baseline: the same entities written by the hub's batch upsert, with no feed logic around it."""
    tm = hub.term_map(rt)
    writer = hub.Writer("public-security")
    for start in range(0, len(records), CHUNK):
        ops = []
        now = now_iso()
        for r in records[start : start + CHUNK]:
            eid = datahub.person_id(rt, r["idCard"])
            body = {"id": eid, "type": "Person", **{k: {"type": "Property", "value": r[k]} for k in ITEMS}}
            ops.append((eid, hub.m_merge(hub.parse_entity(body, tm, now=now), create=True)))
        hub.apply(rt, "default", ops, creates=True, writer=writer)


def timed(label: str, fn: Any) -> tuple[float, Any]:
    """Run ``fn``, print its wall time and this process's CPU time (all threads: on a loaded machine the wall
    time is inflated, the CPU time less so)."""
    t, cpu = time.perf_counter(), time.process_time()
    out = fn()
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"  {label:<52} {took:7.2f} s  (CPU {cpu:6.2f} s)")
    return took, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="person records (default 100,000)")
    parser.add_argument("--disagree", type=float, default=0.01, help="share of the second feed disagreeing")
    args = parser.parse_args()

    people = reg.persons(args.records)
    records = [{k: p[k] for k in ITEMS} for p in people]
    other = reg.second_feed(people, {"name": ("王芳", "李强")}, args.disagree, by="idCard", seed=5)
    offered = [{"idCard": r["idCard"], "name": r["name"]} for r in other.records]
    print(f"feeds of {args.records:,} person records into the persons registry, SQLite")
    with tempfile.TemporaryDirectory() as tmp:
        base_rt = runtime(Path(tmp))
        base, _ = timed("baseline: the hub's raw batch upsert", lambda: raw_upsert(base_rt, records))
        base_rt.close()
        rt = runtime(Path(tmp))
        push = lambda dept, recs: datahub.run_feed(rt, "default", CODE, dept, recs, by="bench")  # noqa: E731
        took, run = timed("feed run (every record new)", lambda: push("public-security", records))
        _, rerun = timed("the same feed again (every record unchanged)", lambda: push("public-security", records))
        _, conflicts = timed("another department's feed (conflicts)", lambda: push("civil-affairs", offered))
        rt.close()
    print(f"  new {run.new:,}, rejected {run.rejected:,}; rerun unchanged {rerun.unchanged:,}; "
          f"second feed conflicting {conflicts.conflicting:,} (planted {len(other.defects):,})")  # fmt: skip
    print(f"  feed / baseline: {took / base:.2f}×; target ≤ {TARGET_S:.0f} s: "
          f"{'met' if took <= TARGET_S else 'NOT met'} ({took:.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
