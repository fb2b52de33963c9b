"""Benchmark of the data quality evaluator (issue 18, item 3). Prints figures; asserts nothing.

The demo's fictitious persons (cityos.demo.registries) with defects planted at 1% each (check digits,
missing items, stale timestamps, duplicates, gender against the ID number) and two disagreeing second
feeds, checked with the 15 rules of HP-01-01-0001 (cityos/datahub/data/quality/):

  - in memory: the median time of ``datahub.evaluate`` over the records, beside a baseline measured in the
    same run: the time to iterate the records and read each item the rules read (the ratio);
  - from SQLite (and PostgreSQL with ``--db``): the records stored in a table of a scratch database; the
    median time to read them into dicts and evaluate, beside the time to read them only (the ratio).

Target (issue 18): a quality run over 1,000,000 records in at most 30 s.

Run: .venv/bin/python bench/quality.py [--records N] [--repeats R] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityos import datahub
from cityos.demo import registries as reg

TARGET_1M = 30.0
CPU = [0.0]  # the CPU time of the last median_time (the wall time is inflated on a loaded machine)
RATES = {"check-digit": 0.01, "missing": 0.01, "stale": 0.01, "duplicate": 0.01, "mismatch": 0.01}
ITEMS = ("id", "idCard", "name", "gender", "birthDate", "mobile", "registeredAddress", "street", "maritalStatus",
         "socialSecurity", "updatedAt", "source")  # fmt: skip


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    """The median wall time of ``repeats`` calls; the median CPU time of this process is kept in CPU."""
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU[0] = statistics.median(cpu)
    return statistics.median(times)


def read_items(records: list[dict[str, str]], items: list[str]) -> None:
    for r in records:
        for item in items:
            r.get(item)


def store(path: Path, records: list[dict[str, str]]) -> None:
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE persons ({', '.join(f'{i} TEXT' for i in ITEMS)})")
        db.executemany(f"INSERT INTO persons VALUES ({', '.join('?' * len(ITEMS))})",
                       ([r.get(i) for i in ITEMS] for r in records))  # fmt: skip


def load(path: Path) -> list[dict[str, str]]:
    with sqlite3.connect(path) as db:
        return [dict(zip(ITEMS, row, strict=True)) for row in db.execute(f"SELECT {', '.join(ITEMS)} FROM persons")]


PG_ADMIN = os.environ.get("CITYOS_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class Postgres:
    """A scratch PostgreSQL database holding the records in a plain table, read with psycopg."""

    def __init__(self) -> None:
        import psycopg

        self.psycopg = psycopg
        self.admin = PG_ADMIN.replace("postgresql+psycopg://", "postgresql://")
        self.name = f"cityos_bench_quality_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.name}"')
        self.url = self.admin.rsplit("/", 1)[0] + "/" + self.name

    def store(self, records: list[dict[str, str]]) -> None:
        with self.psycopg.connect(self.url) as c, c.cursor() as cur:
            cur.execute(f"CREATE TABLE persons ({', '.join(f'{i} TEXT' for i in ITEMS)})")
            with cur.copy(f"COPY persons ({', '.join(ITEMS)}) FROM STDIN") as copy:
                for r in records:
                    copy.write_row([r.get(i) for i in ITEMS])

    def load(self) -> list[dict[str, str]]:
        with self.psycopg.connect(self.url) as c, c.cursor() as cur:
            cur.execute(f"SELECT {', '.join(ITEMS)} FROM persons")
            return [dict(zip(ITEMS, row, strict=True)) for row in cur]

    def drop(self) -> None:
        with self.psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="persons before defects (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; the median is printed")
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgresql", "both"],
        default="sqlite",
        help="where the records are read from (PostgreSQL: CITYOS_TEST_PG_ADMIN_URL)",
    )
    args = parser.parse_args()

    rules = datahub.load_rules()["HP-01-01-0001"]
    start = time.perf_counter()
    planted = reg.plant_defects(reg.persons(args.records), RATES)
    marriage = reg.second_feed(planted.records, {"maritalStatus": reg.MARITAL_STATUS}, 0.01, skip=planted.touched)
    insured = reg.second_feed(planted.records, {"socialSecurity": reg.SOCIAL_SECURITY}, 0.01, seed=12,
                              skip=planted.touched)  # fmt: skip
    references = {"HP-11-03-0002": marriage.records, "HP-16-01-0002": insured.records}
    records = planted.records
    print(f"generated {len(records):,} records and two feeds in {time.perf_counter() - start:.1f} s; "
          f"{len(rules.rules)} rules")  # fmt: skip
    read = sorted({rules.key} | {getattr(r, "item", "") for r in rules.rules} - {""})

    def run() -> datahub.QualityReport:
        return datahub.evaluate(records, rules, as_of=reg.AS_OF, references=references)

    report = run()
    baseline = median_time(lambda: read_items(records, read), args.repeats)
    baseline_cpu = CPU[0]
    in_memory = median_time(run, args.repeats)
    in_memory_cpu = CPU[0]
    print(f"score {report.score:.4f}; failures {sum(o.failed for o in report.outcomes):,}; "
          f"planted {len(planted.defects) + len(marriage.defects) + len(insured.defects):,}")  # fmt: skip
    print(f"in memory:   evaluate {in_memory:6.2f} s   baseline (read {len(read)} items of each record) "
          f"{baseline:5.2f} s   ratio {in_memory / baseline:5.1f}x   "
          f"(CPU {in_memory_cpu:.2f} s / {baseline_cpu:.2f} s)")  # fmt: skip

    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        if kind == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "quality.sqlite"
                store(path, records)
                from_db(kind, partial(load, path), rules, references, len(records), args.repeats)
        else:
            pg = Postgres()
            try:
                pg.store(records)
                from_db(kind, pg.load, rules, references, len(records), args.repeats)
            finally:
                pg.drop()


def from_db(kind: str, read: Callable[[], list[dict[str, str]]], rules: Any, references: Any, count: int,
            repeats: int) -> None:  # fmt: skip
    """The median time to read the records from ``kind`` and evaluate them, beside reading them only."""
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    read_only = median_time(read, repeats)
    read_only_cpu = CPU[0]
    full = median_time(lambda: datahub.evaluate(read(), rules, as_of=reg.AS_OF, references=references), repeats)
    full_cpu = CPU[0]
    print(f"from {name}: read+evaluate {full:6.2f} s   baseline (read into dicts) {read_only:5.2f} s   "
          f"ratio {full / read_only:5.1f}x   (CPU {full_cpu:.2f} s / {read_only_cpu:.2f} s)")  # fmt: skip
    scaled, scaled_cpu = full * 1_000_000 / count, full_cpu * 1_000_000 / count
    print(f"scaled to 1,000,000 records from {name}: {scaled:.1f} s wall, {scaled_cpu:.1f} s CPU "
          f"(target <= {TARGET_1M:.0f} s: {'met' if scaled <= TARGET_1M else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
