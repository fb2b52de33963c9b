"""How long the demo's warm start takes and what it adds to the database (issue 23). Prints figures; asserts
nothing.

The demo district (``--sensors``, as `cityos demo`) in a SQLite file of a temporary directory, then the warm
start of ``--days`` (cityos.demo.warm: the indicator values' history computed by the vitals engine from a
sample of the devices, and every device's last hours of readings). Measured in the one run:

  - the warm start's wall time and this process's CPU time (the machine is shared: CPU time says what the
    work costs, wall time what a user waits on this machine now), and the bytes it added (pages in use);
  - the baseline: the same number of indicator value rows written by a plain bulk insert into an empty
    copy of the table (no simulation, no engine), and the same number of readings through the hub's
    batch write without simulating them; the ratio says what the simulation and the engine cost on top.

Run: .venv/bin/python bench/demo_warm.py [--days 14] [--sensors 5200]
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
from cityos.core.timefmt import now_ms
from cityos.demo.devices import provision_demo_devices
from cityos.demo.district import build_district
from cityos.demo.load import upsert_entities
from cityos.demo.warm import STEP_MS, sampled_devices, warm_start
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade

MB = 1_000_000


def live_bytes(rt: Runtime) -> int:
    """Bytes of the database's pages in use."""
    with rt.db.connect() as conn:
        size = conn.execute(text("PRAGMA page_size")).scalar_one()
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()
        free = conn.execute(text("PRAGMA freelist_count")).scalar_one()
    return int((pages - free) * size)


def raw_insert_seconds(rt: Runtime, rows: int) -> float:
    """Seconds to bulk-insert ``rows`` value rows of the same shape into a scratch copy of the values table."""
    with rt.db.connect() as conn:
        conn.execute(text("CREATE TABLE bench_values AS SELECT * FROM vitals_values WHERE 0"))
        conn.execute(text("CREATE UNIQUE INDEX bench_values_pk ON bench_values (tenant, indicator, scope, at_ms)"))
        conn.commit()
    batch = [
        ("default", f"ind{k % 48}", f"scope{k // 48 % 640}", 1_700_000_000_000 + (k // 30_720) * STEP_MS, 1.5, 0, None)
        for k in range(rows)
    ]  # fmt: skip  (48 indicators x 640 groups a step, like the demo's)
    began = time.perf_counter()
    with rt.db.connect() as conn:
        for start in range(0, rows, 50_000):
            conn.exec_driver_sql("INSERT INTO bench_values VALUES (?, ?, ?, ?, ?, ?, ?)", batch[start : start + 50_000])
            conn.commit()
    took = time.perf_counter() - began
    with rt.db.connect() as conn:
        conn.execute(text("DROP TABLE bench_values"))
        conn.commit()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument("--sensors", type=int, default=5200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rt = Runtime.open(Settings(data_dir=Path(tmp), demo_mode=True))
        upgrade(rt.db)
        entities = build_district(sensors=args.sensors)
        upsert_entities(rt, "default", entities)
        provision_demo_devices(rt, entities)
        devices = sampled_devices(entities)
        before = live_bytes(rt)
        wall, cpu = time.perf_counter(), time.process_time()
        report = warm_start(rt, devices, days=args.days, now_ms=now_ms())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        added = live_bytes(rt) - before
        print(f"warm start of {args.days:g} days, {args.sensors:,} sensors (loaded machine, one run):")
        print(f"  {report.values:,} indicator values over {report.steps:,} steps from {report.sampled:,} sampled or "
              f"tallied devices; {report.readings:,} recent readings of all {len(devices):,} devices")  # fmt: skip
        print(f"  wall {wall:.1f} s, CPU {cpu:.1f} s; database +{added / MB:.1f} MB", flush=True)
        baseline = raw_insert_seconds(rt, report.values)
        print(f"  baseline: the same {report.values:,} rows bulk-inserted alone: {baseline:.1f} s "
              f"({report.values / baseline:,.0f} rows/s); warm start / baseline = {wall / baseline:.1f}")  # fmt: skip
        second = time.perf_counter()
        again = warm_start(rt, devices, days=args.days, now_ms=now_ms())
        second = time.perf_counter() - second
        print(f"  a second start right after: {second:.1f} s ({again.steps} steps topped up)")
        rt.close()


if __name__ == "__main__":
    main()
