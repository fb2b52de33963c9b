"""Benchmark of the de-identification gate (issue 19, item 5). Prints figures; asserts nothing.

A register of N fictitious persons (roads and streets of the demo's synthetic registry with random houses,
random birth dates and genders) released under a policy that removes the ID number, name and mobile,
generalises birth dates to 5-year bands and addresses to their road, and checks k-anonymity (k = 5) over
gender, birth band, road and street:

  - baseline: a plain ``collections.Counter`` over the quasi-identifier tuples of the released records;
  - check: ``opendata.k_anonymity`` over the same records (the groups and the combinations below k);
  - gate: ``opendata.deidentify`` from the raw records (remove, generalise, check);
  - pandas (when installed): a DataFrame made from the released records, grouped by the quasi-identifiers.

Each figure is the median of --repeats runs, in seconds and records/s, and as a ratio to the baseline.

Run: .venv/bin/python bench/deidentify.py [--records N] [--repeats R]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cityos import opendata
from cityos.datahub import CatalogueEntry, DataItem, OpeningType, SharingType, load_scale
from cityos.demo import registries as reg

QUASI = ("gender", "birthDate", "registeredAddress", "street")
ENTRY = CatalogueEntry(
    code="BENCH-01", name="户籍人口（基准）", abstract="基准测试用合成数据。", provider="public-security",
    classification=("基准",), format="file", sharing=SharingType.CONDITIONAL, opening=OpeningType.UNCONDITIONAL,
    update_cycle="monthly", published="2026-01-01",
    items=(DataItem("idCard", "公民身份号码", "id-card", "general-1"), DataItem("name", "姓名", "name", "general-1"),
           DataItem("gender", "性别", "code", "general-1"), DataItem("birthDate", "出生日期", "date", "general-1"),
           DataItem("mobile", "联系电话", "mobile", "general-1"),
           DataItem("registeredAddress", "户籍地址", "address", "general-1"),
           DataItem("street", "街道", "code", "general-1")),
)  # fmt: skip
POLICY = {
    "defaults": {"maxLevel": {"unconditional": "general-2", "conditional": "general-3"},
                 "direct": ["id-card", "name", "mobile", "email"], "directOfPersons": ["address", "geo"]},
    "entries": {"BENCH-01": {"subject": "persons", "quasi": list(QUASI),
                             "generalise": {"birthDate": {"years": 5}, "registeredAddress": "street"}}},
}  # fmt: skip


def register(n: int, seed: int = 19) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    pool = reg.persons(5000)  # the synthetic registry's addresses and streets (making a million of them is slow)
    out = []
    for i in range(n):
        p = pool[rnd.randrange(len(pool))]
        born = f"{rnd.randint(1930, 2010)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        # the pool's road with a house of its own: nearly every address distinct, as in a real register
        road = re.split(r"\d", p["registeredAddress"], maxsplit=1)[0]
        house = f"{rnd.randint(1, 999)}弄{rnd.randint(1, 60)}号{rnd.randint(1, 6)}0{rnd.randint(1, 4)}室"
        out.append({"idCard": p["idCard"], "name": p["name"], "gender": "男女"[rnd.getrandbits(1)], "birthDate": born,
                    "mobile": p["mobile"], "registeredAddress": road + house, "street": p["street"],
                    "seq": i})  # fmt: skip
    return out


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="persons in the register (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; the median is printed")
    args = parser.parse_args()
    n = args.records

    raw = register(n)
    applied = opendata.policy_for(opendata.parse_policy(POLICY, "bench"), ENTRY)
    scale = load_scale()
    result = opendata.deidentify(ENTRY, raw, applied, scale)
    released = result.records
    print(f"{n:,} records; released with {', '.join(sorted(released[0]))}; {result.groups:,} groups, "
          f"{len(result.offending):,} below k={result.k}; passed: {result.passed}")  # fmt: skip

    figures: dict[str, float] = {}
    figures["baseline: Counter of quasi-identifier tuples"] = median_time(
        lambda: Counter(tuple(r[q] for q in QUASI) for r in released), args.repeats
    )
    figures["check: opendata.k_anonymity"] = median_time(lambda: opendata.k_anonymity(released, QUASI, 5), args.repeats)
    figures["gate: opendata.deidentify (remove, generalise, check)"] = median_time(
        lambda: opendata.deidentify(ENTRY, raw, applied, scale), args.repeats
    )
    try:
        import pandas as pd
    except ImportError:
        print("pandas: not installed, left out")
    else:
        figures["pandas: DataFrame(records).groupby(quasi).size()"] = median_time(
            lambda: pd.DataFrame.from_records(released).groupby(list(QUASI), dropna=False).size(), args.repeats
        )

    base = figures["baseline: Counter of quasi-identifier tuples"]
    for name, seconds in figures.items():
        print(f"{name:58s} {seconds:7.3f} s  {n / seconds:12,.0f} records/s  {seconds / base:5.2f}x the baseline")


if __name__ == "__main__":
    main()
