"""How fast the demo's database grows, with and without the demo's default retention (issue 23).
Prints figures; asserts nothing.

The demo district (``--sensors``, as `cityos demo`) in a SQLite file of a temporary directory; the
demo's simulator drives its devices at the demo's rate (``--rate``) into this process's ingest, as
`cityos demo` does, for ``--minutes``. Measured in the one run:

  - without retention: the bytes the database's pages in use grew by per minute of simulation (its
    growth per day is that times 1,440, since nothing is ever dropped);
  - with the demo's retention (raw history ``demo_raw_days``, hourly rollups ``demo_hourly_days``):
    the same history compacted as it will be once it is older than the raw horizon, which gives the
    bytes of one hourly rollup row; the database then holds at most ``demo_raw_days`` of raw history
    and grows by one rollup row per attribute series and hour.

The figures are for the telemetry (the attribute history, what grows); the vital signs' values and the
cases the demo's engine writes come on top and are small beside it.

Run: .venv/bin/python bench/demo_growth.py [--minutes 3] [--rate 200] [--sensors 5200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from cityos.config import Settings
from cityos.context import compact
from cityos.demo.devices import provision_demo_devices
from cityos.demo.district import build_district
from cityos.demo.load import upsert_entities
from cityos.demo.retention import demo_retention
from cityos.demo.simulator import LocalSink, Simulator
from cityos.iot import IngestRunner
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade

MB = 1_000_000
DAY_MS = 86_400_000


def live_bytes(rt: Runtime) -> int:
    """Bytes of the database's pages in use (freed pages are reused before the file grows again)."""
    with rt.db.connect() as conn:
        size = conn.execute(text("PRAGMA page_size")).scalar_one()
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()
        free = conn.execute(text("PRAGMA freelist_count")).scalar_one()
    return int((pages - free) * size)


def table_bytes(rt: Runtime, table: str) -> int:
    """Bytes of the pages of one table and its indexes (SQLite's dbstat)."""
    sql = (
        "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = :t)"
    )
    with rt.db.connect() as conn:
        return int(conn.execute(text(sql), {"t": table}).scalar_one())


def scalar(rt: Runtime, sql: str) -> int:
    with rt.db.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=3.0, help="minutes of simulation")
    ap.add_argument("--rate", type=float, default=200.0, help="messages a second (the demo's default)")
    ap.add_argument("--sensors", type=int, default=5200, help="observed things (the demo's default)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), demo_mode=True, bus_url="memory://")
        rt = Runtime.open(settings)
        upgrade(rt.db)
        t0 = time.perf_counter()
        entities = build_district(sensors=args.sensors)
        upsert_entities(rt, settings.default_tenant, entities)
        devices = provision_demo_devices(rt, entities)
        took = time.perf_counter() - t0
        print(f"district: {len(entities):,} entities, {len(devices):,} devices, loaded in {took:.0f} s")

        base = live_bytes(rt)
        runner = IngestRunner(rt, mqtt=False)
        runner.start()
        sim = Simulator(devices, LocalSink(rt), rate=args.rate, seed=1)
        began = time.monotonic()
        sim.start(duration=args.minutes * 60)
        samples = []
        while sim._thread is not None and sim._thread.is_alive():
            sim._thread.join(min(60.0, args.minutes * 60))
            samples.append((time.monotonic() - began, live_bytes(rt)))
            print(f"  {samples[-1][0] / 60:4.1f} min: {(samples[-1][1] - base) / MB:8.1f} MB more, "
                  f"{sim.stats.accepted:,} messages stored", flush=True)  # fmt: skip
        sim.stop()
        runner.close()
        elapsed = time.monotonic() - began
        grown = live_bytes(rt) - base
        raw_rows = scalar(rt, "SELECT count(*) FROM context_attr_history")
        per_minute = grown / (elapsed / 60)
        achieved = sim.stats.sent / elapsed

        kept = demo_retention(rt, {d.entity_type for d in devices})
        raw_days, hourly_days = kept[0].raw_days, kept[0].hourly_days
        # compact as the demo's compactor will once this history is older than the raw horizon
        compact(rt, now_ms=int(time.time() * 1000) + raw_days * DAY_MS + 2 * 3_600_000)
        rollups = scalar(rt, "SELECT count(*) FROM context_attr_rollup")
        series = scalar(
            rt, "SELECT count(*) FROM (SELECT DISTINCT entity_id, attr, dataset_id FROM context_attr_rollup) s"
        )
        left = scalar(rt, "SELECT count(*) FROM context_attr_history")
        per_rollup = table_bytes(rt, "context_attr_rollup") / max(1, rollups)
        rt.close()

    per_day_raw = per_minute * 1440
    rollup_per_day = series * 24 * per_rollup
    plateau = raw_days * per_day_raw
    print(f"\nsimulated {elapsed / 60:.1f} min at {achieved:,.0f} messages/s (asked {args.rate:,.0f}): "
          f"{raw_rows:,} raw history rows, {grown / max(1, raw_rows):,.0f} bytes each")  # fmt: skip
    print(f"without retention: {per_minute / MB:,.1f} MB a minute, {per_day_raw / 1e9:,.1f} GB a day, for ever")
    print(f"with the demo's retention (raw {raw_days} d, hourly {hourly_days} d): compaction left {left:,} raw rows, "
          f"{rollups:,} hourly rollup rows of {series:,} series, {per_rollup:,.0f} bytes each")  # fmt: skip
    print(f"  {per_minute / MB:,.1f} MB a minute for the first {raw_days} days, then it holds at about "
          f"{plateau / 1e9:,.1f} GB and grows {rollup_per_day / MB:,.1f} MB a day (hourly rollups; daily ones after "
          f"{hourly_days} days)")  # fmt: skip
    print(f"  growth per day once kept: {rollup_per_day / per_day_raw:.4f} of the growth without retention")


if __name__ == "__main__":
    main()
