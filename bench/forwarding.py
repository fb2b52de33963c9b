"""Distributed reads: what the forwarding hook costs a tenant that registered no context source. Prints figures;
asserts nothing.

On SQLite, 1,000 buildings; ``GET /entities/{id}`` over HTTP in-process, interleaved read by read: plain (the
hook looks up the tenant's cached count of sources, finds none) and ``local=true`` (the hook returns before any
look-up). Then the look-up alone: the cached count, and the count read from the database (every 2 s per tenant).

Run: .venv/bin/python bench/forwarding.py [--reads N]
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

from cityos.app import create_app
from cityos.auth.service import create_token
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.context.csources.storage import SourceCounts, has_sources
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade

BUILDINGS, WARM = 1000, 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=1000, help="reads of each form (the first 50 warm up)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        db = Database(f"sqlite:///{d}/forwarding.db")
        upgrade(db)
        rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
        headers = {"Authorization": f"Bearer {create_token(rt.db, 'bench', role='admin', kind='staff')}"}
        body = [
            {"id": f"urn:ngsi-ld:Building:{i}", "type": "Building", "name": {"type": "Property", "value": i}}
            for i in range(BUILDINGS)
        ]
        forms = {"plain (hook: cached count)": {}, "local=true (no look-up)": {"local": "true"}}
        times: dict[str, list[float]] = {f: [] for f in forms}
        with TestClient(create_app(runtime=rt)) as client:
            r = client.post("/ngsi-ld/v1/entityOperations/upsert", json=body, headers=headers)
            if r.status_code not in (201, 204):
                sys.exit(f"loading failed: {r.status_code} {r.text[:200]}")
            for k in range(args.reads):
                for form, params in forms.items():
                    t = time.perf_counter()
                    r = client.get(
                        f"/ngsi-ld/v1/entities/urn:ngsi-ld:Building:{k % BUILDINGS}", params=params, headers=headers
                    )
                    if k >= WARM:
                        times[form].append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text
            tenant = rt.settings.default_tenant
            n = 20_000
            t = time.perf_counter()
            for _ in range(n):
                has_sources(rt, tenant)
            cached = (time.perf_counter() - t) / n
            uncached_runs = []
            for _ in range(500):
                rt.parts.get(SourceCounts, SourceCounts).counts.clear()
                t = time.perf_counter()
                has_sources(rt, tenant)
                uncached_runs.append(time.perf_counter() - t)
        db.dispose()
    print(f"GET /entities/{{id}}, {BUILDINGS:,} buildings, no registration (SQLite, in-process)")
    base = statistics.median(times["local=true (no look-up)"])
    for form in forms:
        med = statistics.median(times[form])
        print(f"  {form:28s} p50 {med * 1000:6.2f} ms  ratio {med / base:.3f}")
    fresh = statistics.median(uncached_runs)
    print(f"  the look-up alone: cached {cached * 1e6:.2f} µs, from the database {fresh * 1e6:.0f} µs (p50)")


if __name__ == "__main__":
    main()
