"""Benchmark of "who used my data" on the one-stop portal. Prints figures; asserts nothing.

An in-process app on a fresh SQLite file with the demo catalogue, residents, grants and reads: a citizen's
``GET /onestop/me/usage`` (its own reads, with each read's entry name and grant items, the look audited)
against the service counter's ``GET /datahub/usage?subject=`` for the same person (the same lookup, without
the entry and grant details), interleaved in the same run; medians and p95, and their ratios.

Run: .venv/bin/python bench/onestop_usage.py [--calls N]
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
from cityos.auth.service import create_token
from cityos.config import Settings
from cityos.demo.people import build_residents
from cityos.demo.sharing import load_sharing
from cityos.runtime import Runtime
from cityos.store.migrate import upgrade


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="onestop-usage-"))
    settings = Settings(database_url=f"sqlite:///{where / 'cityos.db'}", data_dir=where, onestop_demo_login=True,
                        rate_limit_login="1000/minute")  # fmt: skip
    rt = Runtime.open(settings)
    upgrade(rt.db)
    datahub.load_catalogue(rt, "default", by="bench")
    load_sharing(rt, "default")
    person = build_residents()[0].id_card  # the first household: the demo's reads touch it
    operator = create_token(rt.db, "bench-counter", role="operator", kind="staff")
    mine, counter = [], []
    with TestClient(create_app(runtime=rt)) as client:
        t = time.perf_counter()
        token = client.post("/onestop/login/demo", json={"subject": person, "code": "123456"}).json()["token"]
        print(f"demo login: {(time.perf_counter() - t) * 1e3:.1f} ms (first login: the principal made)")
        logins = []
        for _ in range(20):
            t = time.perf_counter()
            client.post("/onestop/login/demo", json={"subject": person, "code": "123456"})
            logins.append(time.perf_counter() - t)
        print(f"demo login again: median {statistics.median(logins) * 1e3:.1f} ms over {len(logins)}")
        own = {"Authorization": f"Bearer {token}"}
        city = {"Authorization": f"Bearer {operator}"}
        reads = len(client.get("/onestop/me/usage", headers=own).json()["reads"])
        for _ in range(args.calls):
            for url, params, headers, into in (("/onestop/me/usage", {}, own, mine),
                                               ("/datahub/usage", {"subject": person}, city, counter)):  # fmt: skip
                t = time.perf_counter()
                r = client.get(url, params=params, headers=headers)
                into.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
    print(f"{reads} reads of the person listed; every call appends one lookup record to the audit chain")
    for label, xs in (("GET /onestop/me/usage", mine), ("GET /datahub/usage (baseline)", counter)):
        print(f"{label}: median {statistics.median(xs) * 1e3:.2f} ms, p95 {p95(xs) * 1e3:.2f} ms over {len(xs)} calls")
    print(f"ratio portal / counter: median {statistics.median(mine) / statistics.median(counter):.3f}, "
          f"p95 {p95(mine) / p95(counter):.3f}")  # fmt: skip
    rt.close()


if __name__ == "__main__":
    main()
