"""Benchmark of one-stop submissions (cityos.onestop.applications.submit). Prints figures; asserts nothing.

A five-item bundle (开办餐饮店一件事 in shape: five items, four departments) submitted --runs times (default
1,000) through cityos.onestop.applications.submit, one thread, each with a new idempotency key: checks, the
idempotency look-up, the submission, five applications and five history rows in one transaction, the bus
events after the commit. p50/p95/p99 in milliseconds (target: p95 ≤ 100 ms on SQLite). Baseline in the same
run: a raw insert of the same rows (one submission, five applications, five history rows) in one write
transaction, without the checks; the ratio says what the service costs on top. Also the retries: the same key
again (the first submission read back, nothing written).

Run: .venv/bin/python bench/onestop_submit.py [--runs N] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "onestop"))
from context import fresh_database, pct  # bench/context.py
from onestop_samples import ANSWERS, ITEMS, MONDAY, RESTAURANT  # tests/onestop/onestop_samples.py

from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.onestop import applications as apps
from cityos.onestop.application_tables import application_history, applications, submissions
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade

SHOP = apps.Applicant("enterprise", "91310101MA1FPX1234")


def _rows(i: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    sid, at = uuid.uuid4().hex[:16], int(MONDAY.timestamp() * 1000)
    sub = {"tenant": "default", "id": sid, "applicant_kind": "enterprise", "applicant": SHOP.key,
           "bundle": "restaurant", "item": None, "answers": ANSWERS, "idempotency_key": f"raw-{i}",
           "fingerprint": "0" * 64, "created_at_ms": at}  # fmt: skip
    rows, hist = [], []
    for pos, it in enumerate(ITEMS):
        aid = uuid.uuid4().hex[:16]
        rows.append({"tenant": "default", "id": aid, "submission_id": sid, "position": pos, "item_code": it.code,
                     "item_version": 1, "item_name": it.name, "department": it.department,
                     "applicant_kind": "enterprise", "applicant": SHOP.key, "state": "submitted",
                     "promised_days": it.promised_limit_days, "legal_days": it.legal_limit_days,
                     "received_at_ms": None, "promised_due_ms": None, "legal_due_ms": None, "paused_ms": 0,
                     "paused_since_ms": None, "decided_at_ms": None, "reasons": None, "created_at_ms": at,
                     "updated_at_ms": at, "version": 1})  # fmt: skip
        hist.append({"tenant": "default", "application_id": aid, "seq": 1, "at_ms": at, "action": "submit",
                     "actor": "enterprise:x", "actor_department": None, "from_state": None,
                     "to_state": "submitted", "reason": None})  # fmt: skip
    return sub, rows, hist


def _times(fn: Any, runs: int) -> list[float]:
    out = []
    for i in range(runs):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def _line(name: str, ms: list[float]) -> str:
    return f"  {name:<28} p50 {pct(ms, 50):7.2f} ms   p95 {pct(ms, 95):7.2f} ms   p99 {pct(ms, 99):7.2f} ms"


def bench(kind: str, runs: int, tmp: Path) -> None:
    db, drop = fresh_database(kind, tmp)
    try:
        upgrade(db)
        rt = Runtime(Settings(database_url=db.url), db, MemoryBus())

        def raw(i: int) -> None:
            sub, rows, hist = _rows(i)
            with db.write() as conn:
                conn.execute(insert(submissions), [sub])
                conn.execute(insert(applications), rows)
                conn.execute(insert(application_history), hist)

        def service(i: int) -> None:
            apps.submit(rt, "default", SHOP, RESTAURANT, ITEMS, ANSWERS, f"svc-{i}")

        def retry(i: int) -> None:
            apps.submit(rt, "default", SHOP, RESTAURANT, ITEMS, ANSWERS, f"svc-{i}")

        for warm in range(20):  # connections, statement caches
            raw(-1 - warm)
            service(-1 - warm)
        base, svc, again = _times(raw, runs), _times(service, runs), _times(retry, runs)
        print(f"{kind}: a five-item bundle submitted {runs} times, one thread")
        print(_line("raw insert, one transaction", base))
        print(_line("applications.submit", svc))
        print(_line("the same key again", again))
        print(f"  ratio submit / raw: p50 {pct(svc, 50) / pct(base, 50):.2f}×   p95 {pct(svc, 95) / pct(base, 95):.2f}×"
              f"   (target p95 ≤ 100 ms: {'met' if pct(svc, 95) <= 100 else 'NOT met'})")  # fmt: skip
        rt.bus.close()
    finally:
        drop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = ap.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            bench(kind, args.runs, Path(tmp))


if __name__ == "__main__":
    main()
