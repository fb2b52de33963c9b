"""How the dashboard copes with the whole demo district: 5,200 sensors on the map, live updates flowing.

Runs ``cityos demo`` (its simulator on) in a temporary folder and drives the page in Debian's Chromium
through Playwright. Prints, medians over the repetitions:

- time from pressing "log in" until the map shows every sensor;
- a full map redraw (a layer switched) with all sensors shown, against the same redraw with the
  sensor layer off (the baseline: the district's geometries alone), as a ratio;
- main-thread tasks longer than 50 ms per minute while the live stream runs (the page stays
  responsive when there are few), and frames drawn per second over the same time;
- warning raised → shown on the page: the API first answering with it against the page's row
  appearing (both clocks on this machine).

    .venv/bin/python bench/dashboard.py [--sensors 5200] [--repeat 7] [--watch 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from context import free_port

from cityos.auth.service import create_account, create_token
from cityos.store.engine import Database

CHROMIUM = os.environ.get("CITYOS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
PASSWORD = "bench-password-2026"


def wait_health(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise SystemExit("cityos demo did not start")


def sensors_drawn(page: Any) -> int:
    return page.evaluate(
        """() => { const c = window.echarts && echarts.getInstanceByDom(document.querySelector('#map'));
             const o = c && c.getOption();
             const sensors = o ? o.series.filter((s) => s.id.startsWith('sensors-')) : [];
             return sensors.reduce((n, s) => n + s.data.length, 0); }"""
    )


def redraw_ms(page: Any) -> float:
    """Switch the grid layer off and on; the time until ECharts has rendered both."""
    return page.evaluate(
        """() => new Promise((done) => {
             const chart = echarts.getInstanceByDom(document.querySelector('#map'));
             const box = document.querySelector('[data-layer=grids]');
             const t0 = performance.now();
             let left = 2;
             const finished = () => {
               if (--left > 0) { box.click(); return; }
               chart.off('finished', finished);
               done(performance.now() - t0);
             };
             chart.on('finished', finished);
             box.click();
           })"""
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensors", type=int, default=5200)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--watch", type=float, default=60.0, help="seconds of live updates to watch")
    ap.add_argument("--warnings", type=int, default=5)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    where = Path(tempfile.mkdtemp(prefix="cityos-bench-dashboard-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOS_")}
    log = (where / "demo.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cityos.cli", "demo", "--no-browser", "--port", str(port), "--sensors",
         str(a.sensors), "--rate", "200"],
        cwd=where, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    try:
        wait_health(url, 180)
        db = Database(f"sqlite:///{(where / 'var' / 'cityos.db').resolve()}")
        create_account(db, "bench", role="operator", password=PASSWORD)
        admin = create_token(db, "bench-admin", role="admin", kind="staff")
        db.dispose()
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30)
        total = len(api.get("/twin/sensors").json()["sensors"])
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            loads = []
            for _ in range(a.repeat):
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(url + "/")
                page.fill("#login-user", "bench")
                page.fill("#login-password", PASSWORD)
                t0 = time.perf_counter()
                page.click("#login-form button[type=submit]")
                while sensors_drawn(page) < total:
                    time.sleep(0.01)
                loads.append((time.perf_counter() - t0) * 1000)
                page.close()
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(url + "/")
            page.fill("#login-user", "bench")
            page.fill("#login-password", PASSWORD)
            page.click("#login-form button[type=submit]")
            while sensors_drawn(page) < total:
                time.sleep(0.05)
            full = [redraw_ms(page) for _ in range(a.repeat)]
            page.select_option("#sensor-type", "none")
            bare = [redraw_ms(page) for _ in range(a.repeat)]
            page.select_option("#sensor-type", "all")
            page.evaluate(
                """() => { window.longTasks = []; window.frames = 0;
                     new PerformanceObserver((l) => window.longTasks.push(...l.getEntries().map((e) => e.duration)))
                       .observe({ type: 'longtask', buffered: false });
                     const count = () => { window.frames++; requestAnimationFrame(count); };
                     requestAnimationFrame(count); }"""
            )
            time.sleep(a.watch)
            long_tasks, frames = page.evaluate("() => [window.longTasks, window.frames]")
            page.evaluate(
                """() => { window.seen = {};
                     new MutationObserver(() => document.querySelectorAll('#warnings [data-warning]').forEach((li) => {
                       if (!(li.dataset.warning in window.seen)) window.seen[li.dataset.warning] = Date.now(); }))
                     .observe(document.querySelector('#warnings'), { childList: true, subtree: true }); }"""
            )
            delays = []
            for i in range(a.warnings):
                ind = f"bench_noise_{i}"
                api.put(f"/vitals/indicators/{ind}", json={
                    "name": {"zh": f"测试{i}", "en": f"bench {i}"}, "category": "environment", "unit": "dB(A)",
                    "source": {"entityType": "NoiseLevelObserved", "attr": "LAeq"}, "aggregation": "max",
                    "window": {"kind": "sliding", "duration": "1m"}, "scope": {"level": "district"},
                    "thresholds": {"blue": 1, "yellow": 2, "orange": 3, "red": 4},
                }).raise_for_status()  # fmt: skip
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    found = api.get("/vitals/warnings", params={"indicator": ind}).json()
                    if found:
                        api_ms = time.time() * 1000
                        break
                    time.sleep(0.02)
                else:
                    raise SystemExit(f"no warning for {ind}")
                wid = found[0]["id"]
                while not page.evaluate(f"() => window.seen[{wid!r}]"):
                    time.sleep(0.02)
                delays.append(page.evaluate(f"() => window.seen[{wid!r}]") - api_ms)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    med = statistics.median
    print(f"dashboard with {total:,} sensors (cityos demo, simulator at 200 msg/s), Chromium {CHROMIUM}")
    print(f"  log in → every sensor on the map: median {med(loads):,.0f} ms (max {max(loads):,.0f}, n={len(loads)})")
    print(
        f"  map redraw (a layer off and on): {med(full):,.0f} ms with all sensors, {med(bare):,.0f} ms without "
        f"them (ratio {med(full) / med(bare):.1f})"
    )
    minutes = a.watch / 60
    print(
        f"  live for {a.watch:.0f} s: {len(long_tasks) / minutes:.1f} tasks > 50 ms a minute "
        f"(longest {max(long_tasks, default=0):.0f} ms), {frames / a.watch:.0f} frames/s"
    )
    print(
        f"  warning → on the page after the API had it: median {med(delays):,.0f} ms, max {max(delays):,.0f} ms "
        f"(n={len(delays)})"
    )


if __name__ == "__main__":
    main()
