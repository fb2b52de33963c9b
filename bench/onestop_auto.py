"""Benchmark of automatic decisions (无人干预自动办理, cityos.onestop.deciding). Prints figures; asserts nothing.

A resident's application for 预防接种证 (HP-WJ-0002, a single item whose shipped rules approve a child under
six with an adult guardian) submitted --runs times (default 300) through cityos.onestop.applications.submit,
then decided by its rules (cityos.onestop.deciding.decide_submission): the facts read (the submission's
answers, the confirmed evidence), the rules evaluated, the decision and trace recorded, received, approved and
the e-certificate signed and issued into the wallet (issuing.issue_certificate), moved to certificate-issued.
Target: the decision's p95 ≤ 50 ms including the certificate. Baseline in the same run: the same submission
without the decision (applications.submit alone); the ratio says what deciding at once adds to a submission.

Run: .venv/bin/python bench/onestop_auto.py [--runs N] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from context import fresh_database, pct  # bench/context.py

from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.demo.people import build_residents, load_people
from cityos.onestop import applications as apps
from cityos.onestop import deciding, seed_items
from cityos.onestop.items import item
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade

ITEM = "HP-WJ-0002"


def _ms(values: list[float]) -> str:
    return f"p50 {pct(values, 50):7.2f} ms  p95 {pct(values, 95):7.2f} ms"


def run(kind: str, runs: int, tmp: Path) -> None:
    db, drop = fresh_database(kind, tmp)
    try:
        upgrade(db)
        rt = Runtime(Settings(database_url=db.url, seal_secret="a bench secret of the offices' seals"), db,
                     MemoryBus())  # fmt: skip
        datahub.load_catalogue(rt, "default", by="bench")
        residents = build_residents()[:20]
        load_people(rt, "default", residents)
        seed_items(rt)
        it = item(rt, ITEM)
        answers = {"baby_name": "刘小宝", "birth_date": (date.today() - timedelta(days=5)).isoformat(),
                   "vaccination_clinic": "瑞金二路街道社区卫生服务中心"}  # fmt: skip
        base, whole, decision = [], [], []
        for i in range(runs + 20):  # the first 20: warm-up (seals opened, caches filled), not counted
            who = apps.Applicant("person", residents[i % len(residents)].id_card)
            t0 = time.perf_counter()
            apps.submit(rt, "default", who, it, [it], answers, f"base-{i}")
            t1 = time.perf_counter()
            done = apps.submit(rt, "default", who, it, [it], answers, f"auto-{i}")
            t2 = time.perf_counter()
            deciding.decide_submission(rt, "default", done.submission)
            t3 = time.perf_counter()
            if i >= 20:
                base.append((t1 - t0) * 1000)
                whole.append((t3 - t1) * 1000)
                decision.append((t3 - t2) * 1000)
        state = apps.get(rt, "default", done.submission.applications[0].id).state
        print(f"[{kind}] {runs} applications of {ITEM}, the last {state} (loaded machine: 2 cores, shared)")
        print(f"  baseline: submission alone          {_ms(base)}")
        print(f"  submission + automatic decision     {_ms(whole)}")
        print(f"  automatic decision incl. certificate {_ms(decision)}   (target p95 ≤ 50 ms)")
        print(f"  ratio (submission + decision) / submission: p50 {pct(whole, 50) / pct(base, 50):.2f}×  "
              f"p95 {pct(whole, 95) / pct(base, 95):.2f}×")  # fmt: skip
    finally:
        drop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=300)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            run(kind, args.runs, Path(tmp))


if __name__ == "__main__":
    main()
