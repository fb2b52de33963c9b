"""Linked entity retrieval: a page of entities read with and without ``join``. Prints figures; asserts nothing.

2,000 buildings, each linking one of 200 cities by ``locatedAt``, on SQLite; ``GET /entities?type=Building``
over HTTP in-process (pages of 100), the three forms interleaved read by read so that a loaded machine
weighs on each alike: no join (the baseline), ``join=inline`` and ``join=flat``. Medians after a warm-up.

Run: .venv/bin/python bench/join.py [--reads N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from cityos.app import create_app
from cityos.auth.service import create_token
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade

BUILDINGS, CITIES, PAGE, WARM = 2000, 200, 100, 50


def _entities() -> list[dict[str, Any]]:
    cities = [
        {"id": f"urn:ngsi-ld:City:{i}", "type": "City", "name": {"type": "Property", "value": f"city {i}"}}
        for i in range(CITIES)
    ]
    buildings = [
        {
            "id": f"urn:ngsi-ld:Building:{i}",
            "type": "Building",
            "name": {"type": "Property", "value": i},
            "locatedAt": {"type": "Relationship", "object": f"urn:ngsi-ld:City:{i % CITIES}"},
        }
        for i in range(BUILDINGS)
    ]
    return cities + buildings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=600, help="reads of each form (the first 50 warm up)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        db = Database(f"sqlite:///{d}/join.db")
        upgrade(db)
        rt = Runtime(Settings(database_url=db.url, max_limit=PAGE), db, MemoryBus())
        headers = {"Authorization": f"Bearer {create_token(rt.db, 'bench', role='admin', kind='staff')}"}
        modes: dict[str, dict[str, str]] = {
            "no join": {},
            "join=inline": {"join": "inline"},
            "join=flat": {"join": "flat"},
        }
        times: dict[str, list[float]] = {m: [] for m in modes}
        docs: dict[str, int] = {}
        with TestClient(create_app(runtime=rt)) as client:
            r = client.post("/ngsi-ld/v1/entityOperations/upsert", json=_entities(), headers=headers)
            if r.status_code not in (201, 204):
                sys.exit(f"loading failed: {r.status_code} {r.text[:200]}")
            pages = BUILDINGS // PAGE
            for k in range(args.reads):
                for mode, extra in modes.items():
                    params = {"type": "Building", "limit": str(PAGE), "offset": str((k % pages) * PAGE), **extra}
                    t = time.perf_counter()
                    r = client.get("/ngsi-ld/v1/entities", params=params, headers=headers)
                    if k >= WARM:
                        times[mode].append(time.perf_counter() - t)
                    docs[mode] = len(r.json())
        db.dispose()
    print(f"GET /entities?type=Building, pages of {PAGE}, {BUILDINGS:,} buildings linking {CITIES} cities (SQLite)")
    base = statistics.median(times["no join"])
    for mode in modes:
        med = statistics.median(times[mode])
        print(f"  {mode:12s} p50 {med * 1000:6.1f} ms  ratio {med / base:.2f}  ({docs[mode]} entities a page)")


if __name__ == "__main__":
    main()
