"""Benchmark of one-stop submissions (cityos.onestop.applications.submit). Prints figures; asserts nothing.

A five-item bundle (开办餐饮店一件事 in shape: five items, four departments) submitted --runs times (default
1,000) through cityos.onestop.applications.submit, one thread, each with a new idempotency key: checks, the
idempotency look-up, the submission, five applications and five history rows in one transaction, the bus
events after the commit. p50/p95/p99 in milliseconds (target: p95 ≤ 100 ms on SQLite). Baseline in the same
run: a raw insert of the same rows (one submission, five applications, five history rows) in one write
transaction, without the checks; the ratio says what the service costs on top. Also the retries: the same key
again (the first submission read back, nothing written).

Then the shipped catalogue, as the route submits (``--catalogue``, on by default): the demo registries loaded
(the data catalogue and the demo district's residents, ``cityos.demo.people``), the shipped items seeded, and a
resident's 新生儿出生一件事 (newborn: five items, five departments) resolved with
``cityos.onestop.submitting.catalogue_resolver`` (each item's latest version read, the merged form's answers
checked, the skip logic run) and submitted; also the resolver alone, and the raw insert of the same rows.

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
sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))  # onestop_samples imports conftest
from context import fresh_database, pct  # bench/context.py
from onestop_samples import ANSWERS, ITEMS, MONDAY, RESTAURANT  # tests/onestop/onestop_samples.py

from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.demo.people import build_residents, load_people
from cityos.onestop import applications as apps
from cityos.onestop import install_catalogue, seed_items
from cityos.onestop.application_catalogue import resolve
from cityos.onestop.application_tables import application_history, applications, submissions
from cityos.onestop.models import Applicant, Bundle, ServiceItem
from cityos.onestop.submitting import catalogue_resolver
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade

SHOP = apps.Applicant("enterprise", "91310101MA1FPX1234")


def _rows(i: int, who: Applicant = SHOP, bundle: str = "restaurant", answers: dict[str, Any] = ANSWERS,
          items: tuple[ServiceItem, ...] | list[ServiceItem] = ITEMS,
          ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    sid, at = uuid.uuid4().hex[:16], int(MONDAY.timestamp() * 1000)
    sub = {"tenant": "default", "id": sid, "applicant_kind": who.kind, "applicant": who.key,
           "bundle": bundle, "item": None, "answers": answers, "idempotency_key": f"raw-{i}",
           "fingerprint": "0" * 64, "created_at_ms": at}  # fmt: skip
    rows, hist = [], []
    for pos, it in enumerate(items):
        aid = uuid.uuid4().hex[:16]
        rows.append({"tenant": "default", "id": aid, "submission_id": sid, "position": pos, "item_code": it.code,
                     "item_version": 1, "item_name": it.name, "department": it.department,
                     "applicant_kind": who.kind, "applicant": who.key, "state": "submitted",
                     "promised_days": it.promised_limit_days, "legal_days": it.legal_limit_days,
                     "received_at_ms": None, "promised_due_ms": None, "legal_due_ms": None, "paused_ms": 0,
                     "paused_since_ms": None, "decided_at_ms": None, "reasons": None, "created_at_ms": at,
                     "updated_at_ms": at, "version": 1})  # fmt: skip
        hist.append({"tenant": "default", "application_id": aid, "seq": 1, "at_ms": at, "action": "submit",
                     "actor": f"{who.kind}:{who.key}", "actor_department": None, "from_state": None,
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


def bench(kind: str, runs: int, tmp: Path, catalogue: bool = True) -> None:
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
        if catalogue:
            with_catalogue(rt, runs)
        rt.bus.close()
    finally:
        drop()


def newborn_answers(mother: str, father: str, address: str) -> dict[str, Any]:
    """A resident's answers to 新生儿出生一件事's merged form (its five items all apply)."""
    return {"baby_name": "王小宝", "baby_gender": "female", "birth_date": "2026-11-20",
            "birth_hospital": "上海市第一妇婴保健院", "mother_id_card": mother, "father_known": True,
            "father_id_card": father, "registration_follows": "mother", "registered_address": address,
            "card_bank": "icbc", "card_delivery": "mail", "delivery_address": address,
            "vaccination_clinic": "黄浦区外滩街道社区卫生服务中心"}  # fmt: skip


def with_catalogue(rt: Runtime, runs: int) -> None:
    """The newborn bundle through the shipped catalogue on a database with the demo registries."""
    datahub.load_catalogue(rt, "default", by="bench")
    residents = build_residents()
    load_people(rt, "default", residents)
    seed_items(rt)
    install_catalogue(rt, catalogue_resolver(rt))
    mothers = [r for r in residents if r.gender == "女"]
    fathers = [r for r in residents if r.gender == "男"]

    def case(i: int) -> tuple[Applicant, dict[str, Any]]:
        mother, father = mothers[i % len(mothers)], fathers[i % len(fathers)]
        return Applicant("person", mother.id_card), newborn_answers(mother.id_card, father.id_card, mother.address)

    target, items = resolve(rt, "bundle", "newborn", case(0)[1])
    assert isinstance(target, Bundle) and len(items) == 5, [i.code for i in items]

    def raw(i: int) -> None:
        who, answers = case(i)
        sub, rows, hist = _rows(i, who, "newborn", answers, list(items))
        with rt.db.write() as conn:
            conn.execute(insert(submissions), [sub])
            conn.execute(insert(applications), rows)
            conn.execute(insert(application_history), hist)

    def resolving(i: int) -> None:
        resolve(rt, "bundle", "newborn", case(i)[1])

    def service(i: int) -> None:
        who, answers = case(i)
        found, applying = resolve(rt, "bundle", "newborn", answers)
        done = apps.submit(rt, "default", who, found, applying, answers, f"newborn-{i}")
        assert len(done.submission.applications) == 5

    for warm in range(20):
        raw(-1 - warm)
        service(-1 - warm)
    base, resolved, svc = _times(raw, runs), _times(resolving, runs), _times(service, runs)
    print(f"{rt.db.engine.dialect.name}: 新生儿出生一件事 (five items, five departments) through the shipped catalogue,"
          f" {len(residents)} demo residents loaded, {runs} times")  # fmt: skip
    print(_line("raw insert, one transaction", base))
    print(_line("catalogue_resolver alone", resolved))
    print(_line("resolve + submit", svc))
    print(f"  ratio (resolve + submit) / raw: p50 {pct(svc, 50) / pct(base, 50):.2f}×   p95 "
          f"{pct(svc, 95) / pct(base, 95):.2f}×   (target p95 ≤ 100 ms: "
          f"{'met' if pct(svc, 95) <= 100 else 'NOT met'})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--no-catalogue", action="store_true", help="only the fixed items (no demo registries)")
    args = ap.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            bench(kind, args.runs, Path(tmp), not args.no_catalogue)


if __name__ == "__main__":
    main()
