"""Benchmark of policy matching (政策找人 · 免申即享). Prints figures; asserts nothing.

1. Evaluation: the shipped policies (ten) compiled from data/policies.yaml, evaluated over --persons synthetic
   rows (1,000,000 by default) whose columns are generated here with numpy (not through the store): the
   person policies over person columns, the enterprise policies over as many enterprise rows. Timed per
   repeat: all ten evaluations plus the indices of the matches (``np.flatnonzero``). Baseline, in the same
   run: a single hand-written vectorised pass over the same columns (each column read once, one boolean
   array per column's test, nothing compiled). Medians and p95s, and the ratio of the medians.
2. Loading: the time to read the columns a person policy needs from the demo registry at its real size
   (``cityos.demo.feeds.PERSONS``, 100,000 persons, fed as the demo feeds them) through the data hub's governed
   bulk read as the policy's department (``datahub.read_columns``: keyset chunks, the grant decided once, every
   chunk audited with the persons it concerns) and build them, then a whole run (read, evaluate, notices
   written). Baseline, in the same run: the same entry read page by page through ``datahub.read_records``
   (offset paging, 1,000 a page, each page audited), as runs read before (--no-baseline skips it: minutes).
   --load 0 skips the loading; it feeds the registry first, which takes minutes on a loaded machine.

Run: .venv/bin/python bench/policy_matching.py [--persons N] [--repeats N] [--load N] [--db sqlite|postgresql]
     [--chunk N] [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import fresh_database, runtime
from cityos import datahub
from cityos.demo.feeding import load_feeds
from cityos.demo.feeds import PERSONS, demo_feeds, policy_feeds
from cityos.demo.sharing import load_grants
from cityos.onestop.policies import build_columns_of, shipped
from cityos.onestop.policy_matching import COLUMN_CHUNK, SCENARIO, read_values, run_policy
from cityos.onestop.policy_rules import Column, evaluate

T = "default"
ON = date(2026, 12, 6)
ROADS = np.array(["上海市黄浦区南京东路1号", "上海市黄浦区瞿溪路20弄3号", "上海市静安区南京西路8号",
                  "上海市黄浦区中山南路5号"])  # fmt: skip
INSURED = np.array(["城镇职工参保", "城乡居民参保", "退休", "未参保"])
KINDS = np.array(["有限责任公司", "股份有限公司", "有限责任公司(自然人独资)", "外商投资企业"])
STATES = np.array(["正常缴费", "正常缴费", "欠费", "暂停缴费"])


def _col(values: np.ndarray, missing: float, rng: np.random.Generator) -> Column:
    present = rng.random(len(values)) >= missing
    kind = "number" if values.dtype.kind == "f" else "text"
    return Column(kind, values, present)


def synthetic(n: int, seed: int = 7) -> dict[str, Column]:
    """Person and enterprise columns for ``n`` rows, each with a few missing values."""
    rng = np.random.default_rng(seed)
    age_days = rng.integers(0, 106 * 365, n).astype(np.float64)
    return {
        "age": _col(np.floor(age_days / 365.25), 0.001, rng),
        "ageDays": _col(age_days, 0.001, rng),
        "gender": _col(np.where(rng.random(n) < 0.49, "男", "女"), 0.0, rng),
        "registeredAddress": _col(ROADS[rng.integers(0, len(ROADS), n)], 0.01, rng),
        "socialSecurity": _col(INSURED[rng.integers(0, len(INSURED), n)], 0.3, rng),
        "onlyChildCertificate": _col(np.array(["DS-1"] * n), 0.8, rng),
        "kind": _col(KINDS[rng.integers(0, len(KINDS), n)], 0.0, rng),
        "registeredCapital": _col(rng.choice([1e5, 5e5, 1e6, 5e6, 1e7], n), 0.1, rng),
        "yearsFounded": _col(rng.integers(0, 30, n).astype(np.float64), 0.0, rng),
        "domicile": _col(ROADS[rng.integers(0, len(ROADS), n)], 0.0, rng),
        "insuredEmployees": _col(rng.integers(0, 400, n).astype(np.float64), 0.1, rng),
        "contributionState": _col(STATES[rng.integers(0, len(STATES), n)], 0.1, rng),
    }


def single_pass(c: dict[str, Column]) -> list[np.ndarray]:
    """The baseline: each column read once by one vectorised test, nothing compiled or combined."""
    return [
        c["age"].present & (c["age"].values >= 60),
        c["ageDays"].present & (c["ageDays"].values <= 90),
        c["gender"].present & (c["gender"].values == "男"),
        c["registeredAddress"].present & (np.strings.find(c["registeredAddress"].values, "黄浦区") >= 0),
        c["socialSecurity"].present & (c["socialSecurity"].values == "未参保"),
        c["onlyChildCertificate"].present.copy(),
        c["kind"].present & (c["kind"].values == "有限责任公司(自然人独资)"),
        c["registeredCapital"].present & (c["registeredCapital"].values <= 5e6),
        c["yearsFounded"].present & (c["yearsFounded"].values < 3),
        c["domicile"].present & (np.strings.find(c["domicile"].values, "黄浦区") >= 0),
        c["insuredEmployees"].present & (c["insuredEmployees"].values <= 100),
        c["contributionState"].present & (c["contributionState"].values == "正常缴费"),
    ]


def ten_policies(c: dict[str, Column], n: int) -> list[np.ndarray]:
    return [np.flatnonzero(evaluate(p.rule, c, n)) for p in shipped().policies.values()]


def _timed(fn: Any, repeats: int) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return times, out


def _line(name: str, times: list[float], base: float) -> str:
    med = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else med
    return f"  {name:<22} median {med:7.3f} s  p95 {p95:7.3f} s  ({med / base:.2f}× the baseline's median)"


def evaluation(n: int, repeats: int) -> None:
    started = time.perf_counter()
    columns = synthetic(n)
    print(f"evaluation over {n:,} synthetic rows (columns generated in {time.perf_counter() - started:.1f} s; "
          f"{len(shipped().policies)} policies; loaded machine)")  # fmt: skip
    base, _ = _timed(lambda: single_pass(columns), repeats)
    ten, hits = _timed(lambda: ten_policies(columns, n), repeats)
    mid = statistics.median(base)
    print(_line("single pass (baseline)", base, mid))
    print(_line("ten policies + matches", ten, mid))
    for p, found in zip(shipped().policies.values(), hits, strict=True):
        print(f"    {p.code:<22} {len(found):>9,} matched")


def paged_read(rt: Any, code: str, by: str) -> tuple[int, int, float]:
    """The baseline read, as runs read before the bulk read: entry HP-01-01-0001 page by page (offset paging,
    1,000 a page, each page rendered whole and audited) through datahub.read_records: (records, pages, s)."""
    p = shipped().policies[code]
    reader = datahub.Reader(by, p.department, False, SCENARIO, f"{SCENARIO} {p.name_zh}")
    started, offset, pages = time.perf_counter(), 0, 0
    while True:
        read = datahub.read_records(rt, T, "HP-01-01-0001", reader, limit=1000, offset=offset)
        offset, pages = offset + len(read.records), pages + 1
        if len(read.records) < 1000:
            return offset, pages, time.perf_counter() - started


def loading(kind: str, persons: int, baseline: bool, chunk: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db, drop = fresh_database(kind, Path(tmp))
        try:
            rt = runtime(db, Path(tmp))
            datahub.load_catalogue(rt, T, by="bench")
            load_grants(rt, T)
            started = time.perf_counter()
            load_feeds(rt, T, demo_feeds(persons) + policy_feeds(persons))
            print(f"{kind}: the demo registry fed with {persons:,} persons in {time.perf_counter() - started:.0f} s "
                  f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip
            found = shipped()
            bulk: float | None = None
            for code in ("P-ELDER-ALLOWANCE", "P-RESIDENT-INSURANCE"):
                p = found.policies[code]
                specs = found.specs(p)
                t0 = time.perf_counter()
                ids, values, seqs = read_values(rt, T, p, specs, "bench", chunk=chunk)
                t1 = time.perf_counter()
                columns = build_columns_of(specs, values, ON)
                t2 = time.perf_counter()
                hits = int(evaluate(p.rule, columns, len(ids)).sum())
                t3 = time.perf_counter()
                bulk = bulk if bulk is not None else t1 - t0
                print(f"  {code}: bulk read of {len(ids):,} subjects from {', '.join(found.entries(p))} in "
                      f"{t1 - t0:.1f} s ({len(seqs)} audited chunks of {chunk:,}), columns built in {t2 - t1:.2f} s, "
                      f"evaluated in {(t3 - t2) * 1000:.1f} ms: {hits:,} matched "
                      f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip
            t0 = time.perf_counter()
            run = run_policy(rt, T, "P-ELDER-ALLOWANCE", by="bench", on=ON, chunk=chunk)
            print(f"  a whole run of P-ELDER-ALLOWANCE (read, evaluate, {run.notified:,} notices written): "
                  f"{time.perf_counter() - t0:.1f} s (load average {os.getloadavg()[0]:.1f})")  # fmt: skip
            if baseline and bulk:
                n, pages, paged = paged_read(rt, "P-ELDER-ALLOWANCE", "bench")
                print(f"  baseline: the same entry read page by page (offset paging, {pages} audited pages of "
                      f"1,000): {n:,} records in {paged:.1f} s: the bulk read takes {bulk / paged:.3f}x its time "
                      f"({paged / bulk:.0f}x faster; load average {os.getloadavg()[0]:.1f})")  # fmt: skip
        finally:
            drop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000, help="synthetic rows evaluated")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--load", type=int, default=PERSONS, help="persons fed into the demo registry (0: skip)")
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--chunk", type=int, default=COLUMN_CHUNK, help="entities per chunk of the bulk read")
    ap.add_argument("--no-baseline", action="store_true", help="skip the page-by-page read (minutes at 100,000)")
    args = ap.parse_args()
    evaluation(args.persons, args.repeats)
    if args.load:
        loading(args.db, args.load, not args.no_baseline, args.chunk)


if __name__ == "__main__":
    main()
