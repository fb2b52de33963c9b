"""Benchmark of the merged forms (一表申请) and the item lookups. Prints figures; asserts nothing.

- check: ``forms.check`` (skip logic in JsonLogic, every shown answer cleaned) of a complete valid set of
  answers per bundle, beside a baseline in the same run: a plain dict comprehension over the same answers
  that only tests each value's Python type (the least a validator does); medians and p95 in microseconds and
  the ratio of the medians;
- lookup: ``onestop.item()`` of the latest version from SQLite after the seeding (a primary key read and the
  JSON parsed back into the item), beside a bare ``SELECT`` of the same row on the same connection.

Run: .venv/bin/python bench/onestop_forms.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.core.identifiers import ID_CHECK, ID_WEIGHTS, credit_check_character
from cityos.onestop import bundle, bundles, form_for, item, seed_items
from cityos.onestop.forms import check
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade


def _id(first17: str) -> str:
    return first17 + ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _answer(q: Any) -> Any:
    credit = "91310101MA1FPX123"
    return {
        "boolean": True,
        "integer": 10,
        "number": 12.5,
        "date": "2026-03-01",
        "choice": q.values[0] if q.values else "",
        "multichoice": list(q.values[:2]),
        "id-card": _id("31010119900307002"),
        "credit-code": credit + credit_check_character(credit),
        "phone": "13800138000",
    }.get(q.type, "黄浦区某路 1 号")


def _times(fn: Callable[[], Any], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e6)
    return out


def _line(name: str, ours: list[float], base: list[float]) -> None:
    med, p95 = statistics.median(ours), statistics.quantiles(ours, n=20)[-1]
    bmed = statistics.median(base)
    print(f"{name:<28} median {med:8.1f} µs  p95 {p95:8.1f} µs   baseline median {bmed:6.2f} µs   "
          f"ratio {med / bmed:6.1f}×")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    for b in bundles():
        form = form_for(b)
        answers = {q.code: _answer(q) for q in form.questions}
        types = {q.code: type(answers[q.code]) for q in form.questions}
        checked = check(form, answers)
        assert not checked.errors, checked.errors
        ours = _times(lambda form=form, answers=answers: check(form, answers), args.repeats)
        base = _times(lambda a=answers, t=types: {k: v for k, v in a.items() if isinstance(v, t[k])}, args.repeats)
        _line(f"check {b.code} ({len(form.questions)} q)", ours, base)
    with tempfile.TemporaryDirectory() as where:
        db = Database(f"sqlite:///{where}/bench.db")
        upgrade(db)
        rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
        seed_items(rt)
        code = bundle("restaurant").items[1].item
        with db.connect() as conn:
            q = text("SELECT item FROM onestop_item_versions WHERE tenant = 'default' AND code = :c AND version = 1")
            ours = _times(lambda: item(rt, code, conn=conn), args.repeats)
            base = _times(lambda: conn.execute(q, {"c": code}).one(), args.repeats)
        _line(f"item({code}) on SQLite", ours, base)
        rt.bus.close()
        db.dispose()


if __name__ == "__main__":
    main()
