"""Benchmark of the open data portal's usage counting. Prints figures; asserts nothing.

An in-process app on a fresh SQLite file with the demo catalogue: ``package_show`` through the Action API,
each call counted as an API call of its dataset, against the same calls with the portal's header (which are
not counted), in the same run, interleaved; then one batch write of the counts of many datasets and days.

Run: .venv/bin/python bench/opendata_usage.py [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from cityos import datahub
from cityos.app import create_app
from cityos.config import Settings
from cityos.opendata.usage import flush, usage_of
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="opendata-usage-"))
    settings = Settings(database_url=f"sqlite:///{where / 'cityos.db'}", data_dir=where)
    rt = Runtime.open(settings)
    upgrade(rt.db)
    datahub.load_catalogue(rt, "default", by="bench")
    counted, plain = [], []
    with TestClient(create_app(runtime=rt)) as client:
        names = client.get("/api/3/action/package_list").json()["result"]
        for i in range(args.calls):
            name = names[i % len(names)]
            for headers, into in (({}, counted), ({"X-Cityos-Portal": "bench"}, plain)):
                t = time.perf_counter()
                client.get("/api/3/action/package_show", params={"id": name}, headers=headers)
                into.append(time.perf_counter() - t)
    for label, xs in (("counted", counted), ("not counted (baseline)", plain)):
        print(f"package_show {label}: median {statistics.median(xs) * 1e3:.2f} ms over {len(xs)} calls")
    print(f"ratio counted / baseline (median): {statistics.median(counted) / statistics.median(plain):.3f}")
    part = usage_of(rt)
    for d in range(30):
        for name in names:
            for kind in ("view", "download", "api"):
                part.count("default", name, kind, today=f"2026-11-{d + 1:02d}")
    t = time.perf_counter()
    rows = flush(rt)
    print(f"one batch of {rows} upserted rows: {(time.perf_counter() - t) * 1e3:.1f} ms")
    rt.close()


if __name__ == "__main__":
    main()
