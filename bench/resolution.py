"""Benchmark of entity resolution (实体识别, issue 18 item 1). Prints figures; asserts nothing.

A registry of fictitious legal entities and a street office's list of enterprises by name and address, with
no credit code (cityos.demo.registries.resolution_case: variant spellings, misspellings, look-alikes that are
not in the registry, the truth kept):

  - baseline, in the same run: the exact-key lookup of the same records, had they carried the credit code
    (a dict of the registry by code, as a keyed feed finds its entity);
  - the pure resolution of the records: blocking, comparison, weights, decision (index built beforehand);
  - the same records resolved and every decision stored with its evidence (``datahub.resolve``, SQLite).

Printed: precision of ``matched``, recall, wrongly merged records, the review share, records per second,
and the ratio of each time to the baseline's.

Run: .venv/bin/python bench/resolution.py [--registry N] [--records N]
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

from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.datahub import Candidate, blocking_keys, index_candidates
from cityos.datahub.resolution import decide, get_model
from cityos.demo import registries as reg
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade

CODE = "HP-02-01-0001"  # records of the demo catalogue's 企业登记基本信息 (the registry's own entry, for a provider)


def timed(label: str, fn: Any) -> tuple[float, Any]:
    """Run ``fn``, print its wall and CPU time, and return the CPU time (on a loaded machine the wall time is
    inflated, the CPU time less so: the ratios are of CPU times)."""
    t, cpu = time.perf_counter(), time.process_time()
    out = fn()
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"  {label:<58} {took:8.4f} s  (CPU {cpu:7.4f} s)")
    return cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", type=int, default=20_000, help="legal entities in the registry (20,000)")
    parser.add_argument("--records", type=int, default=5_000, help="records of the feed (5,000)")
    args = parser.parse_args()

    case = reg.resolution_case(args.registry, args.records)
    model = get_model("legal-entity")
    fields = {"name": "name", "address": "domicile", "legalRepresentative": "legalRepresentative"}
    candidates = [Candidate(r["id"], {f: r[item] for f, item in fields.items()}) for r in case.registry]
    by_code = {r["creditCode"]: r for r in case.registry}
    code_of = {r["id"]: r["creditCode"] for r in case.registry}
    keyed = [code_of[t] if t is not None else "9131010100000000XX" for t in case.truth]
    print(f"entity resolution of {args.records:,} records against {args.registry:,} legal entities")
    base, _ = timed("baseline: exact-key lookup of the same records", lambda: [by_code.get(k) for k in keyed])
    _, index = timed("blocking index of the registry", lambda: index_candidates(model, candidates))

    def pure() -> list[Any]:
        return [decide(model, r, [c for k in blocking_keys(model, r) for c in index.get(k, ())]) for r in case.feed]

    took, decisions = timed("resolution (pure: block, compare, weigh, decide)", pure)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / f'bench-{uuid.uuid4().hex[:6]}.db'}")
        upgrade(db)
        rt = Runtime(Settings(database_url=db.url, data_dir=Path(tmp)), db, MemoryBus())
        datahub.load_catalogue(rt, "default")
        run_it = lambda: datahub.resolve(rt, "default", CODE, "waitan-street", case.feed, index, by="bench")  # noqa: E731
        stored, run = timed("resolution run, decisions stored with evidence (SQLite)", run_it)
        rt.close()
    matched = [(d.entity, t) for d, t in zip(decisions, case.truth, strict=True) if d.outcome == "matched"]
    right = sum(e == t for e, t in matched)
    matches = sum(t is not None for t in case.truth)
    review = sum(d.outcome == "review" for d in decisions)
    print(f"  precision of matched {right / max(1, len(matched)):.4f}, recall {right / max(1, matches):.4f}, "
          f"wrongly merged {len(matched) - right}, review share {review / len(decisions):.4f} "
          f"({matches:,} records of registry entities, {len(decisions) - matches:,} of none)")  # fmt: skip
    print(f"  CPU time: pure {len(decisions) / took:,.0f} records/s, {took / base:,.0f}× the exact-key lookup; stored: "
          f"{len(decisions) / stored:,.0f} records/s, {stored / base:,.0f}× (run {run.id}: matched {run.matched:,}, "
          f"review {run.review:,}, new {run.new:,})")  # fmt: skip


if __name__ == "__main__":
    main()
