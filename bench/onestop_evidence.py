"""Benchmark of once-only evidence (两个免于提交). Prints figures; asserts nothing.

On SQLite (and PostgreSQL with --db): the demo catalogue, the demo's residents and grants; for each of
--repeats residents, timed one at a time:
  - baseline: the same governed lookup the evidence service makes, straight through the data hub
    (``datahub.read_records`` by health under its 一网通办 grant, ``idCard=="…"``, one record, audited);
  - preview: ``cityos.onestop.evidence.preview`` of a 4-item registry material for a new application (the
    same read, plus the applicant's checks, the hash and the evidence row and its history written);
  - confirm: ``confirm`` of that preview (one row rewritten, one history row).
Medians and p95s in ms, and each as a ratio of the baseline's median in the same run.

Run: .venv/bin/python bench/onestop_evidence.py [--repeats N] [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import fresh_database, runtime
from cityos import datahub
from cityos.demo.people import PERSON_CODE, build_residents, load_people
from cityos.demo.sharing import load_grants
from cityos.onestop.evidence import SCENARIO, Applicant, confirm, preview
from cityos.onestop.models import Material
from cityos.runtime import Runtime

T = "default"
MATERIAL = Material("mother", "母亲身份信息", "registry", registry="person", entry=PERSON_CODE,
                    items=("idCard", "name", "birthDate", "registeredAddress"))  # fmt: skip


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _line(name: str, times: list[float], base: float) -> str:
    med, p95 = statistics.median(times), statistics.quantiles(times, n=20)[-1]
    return f"  {name:<9} median {med:7.2f} ms  p95 {p95:7.2f} ms  ({med / base:.2f}× the baseline's median)"


def run(rt: Runtime, repeats: int) -> None:
    datahub.load_catalogue(rt, T, by="bench")
    residents = build_residents()[:repeats]
    load_people(rt, T, residents)
    load_grants(rt, T)
    reader = datahub.Reader("health", "health", False, SCENARIO, f"{SCENARIO} bench")
    base, shown, confirmed = [], [], []
    for n, r in enumerate(residents):
        base.append(_ms(lambda r=r: datahub.read_records(rt, T, PERSON_CODE, reader, q=f'idCard=="{r.id_card}"',
                                                         limit=1)))  # fmt: skip
        who = Applicant("person", r.id_card)
        shown.append(_ms(lambda who=who, n=n: preview(rt, T, "health", who, MATERIAL, application_id=f"B-{n}",
                                                      item_name="bench", by="bench")))  # fmt: skip
        confirmed.append(_ms(lambda who=who, n=n: confirm(rt, T, f"B-{n}", MATERIAL, who, by="bench")))
    mid = statistics.median(base)
    print(_line("baseline", base, mid))
    print(_line("preview", shown, mid))
    print(_line("confirm", confirmed, mid))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=200, help="residents previewed (at most 300)")
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = ap.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            db, drop = fresh_database(kind, Path(tmp))
            try:
                print(f"{kind}: {min(args.repeats, 300)} previews of a 4-item registry material")
                run(runtime(db, Path(tmp)), min(args.repeats, 300))
            finally:
                drop()


if __name__ == "__main__":
    main()
