"""Benchmark of the data quality evaluator (issue 18, item 3). Prints figures; asserts nothing.

The demo's fictitious persons (cityos.demo.registries) with defects planted at 1% each (check digits,
missing items, stale timestamps, duplicates, gender against the ID number) and two disagreeing second
feeds, checked with the 15 rules of HP-01-01-0001 (cityos/datahub/data/quality/):

  - in memory: the median time of ``datahub.evaluate`` over the records, beside a baseline measured in the
    same run: the time to iterate the records and read each item the rules read (the ratio);
  - from SQLite: the records stored in a table of a file database; the median time to read them into dicts
    and evaluate, beside the time to read them only (the ratio).

Target (issue 18): a quality run over 1,000,000 records in at most 30 s.

Run: .venv/bin/python bench/quality.py [--records N] [--repeats R]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="persons before defects (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; the median is printed")
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

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "quality.sqlite"
        store(path, records)
        read_only = median_time(lambda: load(path), args.repeats)
        read_only_cpu = CPU[0]
        full = median_time(lambda: datahub.evaluate(load(path), rules, as_of=reg.AS_OF, references=references),
                           args.repeats)  # fmt: skip
        full_cpu = CPU[0]
    print(f"from SQLite: read+evaluate {full:6.2f} s   baseline (read into dicts) {read_only:5.2f} s   "
          f"ratio {full / read_only:5.1f}x   (CPU {full_cpu:.2f} s / {read_only_cpu:.2f} s)")  # fmt: skip
    scaled, scaled_cpu = full * 1_000_000 / len(records), full_cpu * 1_000_000 / len(records)
    print(f"scaled to 1,000,000 records from SQLite: {scaled:.1f} s wall, {scaled_cpu:.1f} s CPU "
          f"(target <= {TARGET_1M:.0f} s: {'met' if scaled <= TARGET_1M else 'NOT met'})")  # fmt: skip


if __name__ == "__main__":
    main()
