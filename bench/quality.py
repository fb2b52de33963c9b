"""Benchmark of the data quality evaluator (issue 18, item 3). Prints figures; asserts nothing.

The demo's fictitious persons (cityos.demo.registries) with defects planted at 1% each (check digits,
missing items, stale timestamps, duplicates, gender against the ID number) and two disagreeing second
feeds, checked with the 15 rules of HP-01-01-0001 (cityos/datahub/data/quality/):

  - in memory: the median time of the record-at-a-time evaluator (``evaluate_records``, the algorithm before
    the column-wise one) and of ``datahub.evaluate`` (columns, a chunk at a time) over the records, beside a
    baseline measured in the same run: the time to iterate the records and read each item the rules read;
  - from SQLite (and PostgreSQL with ``--db``): the records stored in a table of a scratch database; measured
    in turn, alternating, ``--repeats`` rounds:
      * plain read: the records read whole into dicts (the baseline of the ratios);
      * before: read whole into dicts, then ``evaluate_records``;
      * after: read by key (keyset pages of ``--chunk`` records) as columns, each page fed to a
        ``datahub.QualityEvaluation`` as it comes;
    the medians of wall and CPU time, their ratio to the plain read, and each one's peak memory in a separate
    untimed pass (the Python heap's peak by tracemalloc plus the Arrow pool's peak). Both reports are compared:
    they must be equal.

The machine may be loaded (the load average is printed): the CPU time is the steadier figure.

Target (issue 18): a quality run over 1,000,000 records in at most 30 s.

Run: .venv/bin/python bench/quality.py [--records N] [--repeats R] [--db sqlite|postgresql|both] [--chunk C]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
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
        db.execute(f"CREATE TABLE persons (seq INTEGER PRIMARY KEY, {', '.join(f'{i} TEXT' for i in ITEMS)})")
        db.executemany(f"INSERT INTO persons VALUES (?, {', '.join('?' * len(ITEMS))})",
                       ([n, *(r.get(i) for i in ITEMS)] for n, r in enumerate(records, start=1)))  # fmt: skip


def load(path: Path) -> list[dict[str, str]]:
    with sqlite3.connect(path) as db:
        return [dict(zip(ITEMS, row, strict=True)) for row in db.execute(f"SELECT {', '.join(ITEMS)} FROM persons")]


KEYSET = f"SELECT seq, {', '.join(ITEMS)} FROM persons WHERE seq > {{}} ORDER BY seq LIMIT {{}}"


def pages(fetch: Callable[[int], list[tuple[Any, ...]]]) -> Iterator[dict[str, tuple[Any, ...]]]:
    """Keyset pages as columns (item -> values): ``fetch(last)`` answers the rows after sequence ``last``."""
    last = 0
    while rows := fetch(last):
        seq, *columns = zip(*rows, strict=True)
        last = seq[-1]
        yield dict(zip(ITEMS, columns, strict=True))


def load_pages(path: Path, size: int) -> Iterator[dict[str, tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        query = KEYSET.format("?", "?")
        yield from pages(lambda last: db.execute(query, (last, size)).fetchall())


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
            cur.execute(f"CREATE TABLE persons (seq bigint PRIMARY KEY, {', '.join(f'{i} TEXT' for i in ITEMS)})")
            with cur.copy(f"COPY persons (seq, {', '.join(ITEMS)}) FROM STDIN") as copy:
                for n, r in enumerate(records, start=1):
                    copy.write_row([n, *(r.get(i) for i in ITEMS)])
            cur.execute("ANALYZE persons")

    def load(self) -> list[dict[str, str]]:
        with self.psycopg.connect(self.url) as c, c.cursor() as cur:
            cur.execute(f"SELECT {', '.join(ITEMS)} FROM persons")
            return [dict(zip(ITEMS, row, strict=True)) for row in cur]

    def load_pages(self, size: int) -> Iterator[dict[str, tuple[Any, ...]]]:
        with self.psycopg.connect(self.url) as c, c.cursor() as cur:
            query = KEYSET.format("%s", "%s")
            yield from pages(lambda last: cur.execute(query, (last, size)).fetchall())

    def drop(self) -> None:
        with self.psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="persons before defects (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per figure; the median is printed")
    parser.add_argument("--chunk", type=int, default=65_536, help="records per keyset page (default 65,536)")
    parser.add_argument("--no-memory", action="store_true", help="leave out the (slow, traced) peak memory pass")
    parser.add_argument("--no-in-memory", action="store_true", help="leave out the figures over records in memory")
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
          f"{len(rules.rules)} rules; load average {load_average()}")  # fmt: skip
    if not args.no_in_memory:
        in_memory(records, rules, references, planted.defects + marriage.defects + insured.defects, args.repeats)

    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        if kind == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "quality.sqlite"
                store(path, records)
                from_db(kind, partial(load, path), partial(load_pages, path, args.chunk), rules, references, args)
        else:
            pg = Postgres()
            try:
                pg.store(records)
                from_db(kind, pg.load, partial(pg.load_pages, args.chunk), rules, references, args)
            finally:
                pg.drop()


def in_memory(records: list[dict[str, str]], rules: Any, references: Any, planted: list[Any], repeats: int) -> None:
    """The evaluators over records in memory, beside iterating the records and reading the items the rules read."""
    read = sorted({rules.key} | {getattr(r, "item", "") for r in rules.rules} - {""})

    report = datahub.evaluate(records, rules, as_of=reg.AS_OF, references=references)
    baseline = median_time(lambda: read_items(records, read), repeats)
    baseline_cpu = CPU[0]
    before = median_time(lambda: datahub.evaluate_records(records, rules, as_of=reg.AS_OF, references=references),
                         repeats)  # fmt: skip
    before_cpu = CPU[0]
    after = median_time(lambda: datahub.evaluate(records, rules, as_of=reg.AS_OF, references=references),
                        repeats)  # fmt: skip
    after_cpu = CPU[0]
    print(f"score {report.score:.4f}; failures {sum(o.failed for o in report.outcomes):,}; "
          f"planted {len(planted):,}")  # fmt: skip
    print(f"in memory: baseline (read {len(read)} items of each record) {baseline:5.2f} s (CPU {baseline_cpu:.2f} s)")
    print(f"  before (record at a time) {before:6.2f} s  ratio {before / baseline:5.1f}x  "
          f"(CPU {before_cpu:.2f} s, {before_cpu / baseline_cpu:.1f}x)")  # fmt: skip
    print(f"  after  (columns, chunks)  {after:6.2f} s  ratio {after / baseline:5.1f}x  "
          f"(CPU {after_cpu:.2f} s, {after_cpu / baseline_cpu:.1f}x)   load average {load_average()}")  # fmt: skip


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    start, start_cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - start, time.process_time() - start_cpu, out


def peak_memory(fn: Callable[[], Any]) -> float:
    """The peak memory of a call, in MB: the Python heap's (tracemalloc) plus the Arrow pool's."""
    import pyarrow as pa

    default = pa.default_memory_pool()
    proxy = pa.proxy_memory_pool(default)
    pa.set_memory_pool(proxy)
    tracemalloc.start()
    try:
        fn()
        _, heap = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(default)
    return (heap + proxy.max_memory()) / 1e6


def from_db(kind: str, read: Callable[[], list[dict[str, str]]],
            read_pages: Callable[[], Iterator[dict[str, tuple[Any, ...]]]], rules: Any, references: Any,
            args: argparse.Namespace) -> None:  # fmt: skip
    """Plain read, before and after, measured in turn (alternating), ``args.repeats`` rounds; the medians."""
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]

    def before() -> datahub.QualityReport:
        return datahub.evaluate_records(read(), rules, as_of=reg.AS_OF, references=references)

    def after() -> datahub.QualityReport:
        run = datahub.QualityEvaluation(rules, as_of=reg.AS_OF, references=references)
        for columns in read_pages():
            run.add(columns)
        return run.report()

    variants: dict[str, Callable[[], Any]] = {"plain read": read, "before": before, "after": after}
    walls: dict[str, list[float]] = {v: [] for v in variants}
    cpus: dict[str, list[float]] = {v: [] for v in variants}
    reports: dict[str, Any] = {}
    loads = []
    for _ in range(args.repeats):
        for variant, fn in variants.items():
            wall, cpu, out = timed(fn)
            walls[variant].append(wall)
            cpus[variant].append(cpu)
            reports[variant] = out
            del out
        loads.append(load_average())
    count = reports["after"].records
    print(f"from {name} ({count:,} records; load average after each round: {' | '.join(loads)}):")
    print(f"  reports of before and after equal: {'yes' if reports['before'] == reports['after'] else 'NO'}")
    reports.clear()
    base, base_cpu = statistics.median(walls["plain read"]), statistics.median(cpus["plain read"])
    for variant in variants:
        wall, cpu = statistics.median(walls[variant]), statistics.median(cpus[variant])
        print(f"  {variant:10s} {wall:6.2f} s wall ({wall / base:4.1f}x the plain read)   {cpu:6.2f} s CPU "
              f"({cpu / base_cpu:4.1f}x)")  # fmt: skip
    if not args.no_memory:
        for variant, fn in variants.items():
            print(f"  {variant:10s} peak memory {peak_memory(fn):8.1f} MB (Python heap + Arrow pool, traced)")
    wall, cpu = statistics.median(walls["after"]), statistics.median(cpus["after"])
    scaled, scaled_cpu = wall * 1_000_000 / count, cpu * 1_000_000 / count
    print(f"  scaled to 1,000,000 records from {name}: {scaled:.1f} s wall, {scaled_cpu:.1f} s CPU "
          f"(target <= {TARGET_1M:.0f} s: {'met' if scaled <= TARGET_1M else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
