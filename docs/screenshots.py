"""Take the README's screenshots of a running dashboard with Debian's Chromium (Playwright).

    cityos demo --scenario bund-new-year --clock 23:00 --speed 10     # wait ~6 minutes for the Bund to go red
    .venv/bin/python docs/screenshots.py --url http://127.0.0.1:8000 --user duty --password <printed by the demo>

Writes docs/img/dashboard.png (1920×1080), docs/img/twin.png (the Bund's twin after a what-if run: the inflow
halved for an hour) and docs/img/laptop.png (1366×768).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent / "img"
CHROMIUM = os.environ.get("CITYOS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
BUND = "urn:ngsi-ld:ManagementUnit:waitan"


def log_in(page: Any, url: str, user: str, password: str) -> None:
    page.goto(url + "/")
    page.fill("#login-user", user)
    page.fill("#login-password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#vitals .category", timeout=30_000)
    time.sleep(3)  # sensors, warnings and cases drawn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--user", default="duty")
    ap.add_argument("--password", required=True)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    HERE.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        shanghai = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, **shanghai)
        log_in(page, a.url, a.user, a.password)
        page.screenshot(path=str(HERE / "dashboard.png"), animations="disabled")
        page.select_option("#unit-pick", BUND)
        page.wait_for_selector("#whatif-form")
        page.fill("#whatif-form [name=change]", "-50")  # the duty officer's question: does halving the inflow help?
        page.click("#whatif-form button[type=submit]")
        page.wait_for_selector("#whatif-summary:not([hidden]), #whatif-error:not(:empty)")
        time.sleep(1)
        page.screenshot(path=str(HERE / "twin.png"), animations="disabled", full_page=True)
        laptop = browser.new_page(viewport={"width": 1366, "height": 768}, **shanghai)
        log_in(laptop, a.url, a.user, a.password)
        laptop.screenshot(path=str(HERE / "laptop.png"), animations="disabled")
        browser.close()
    print(f"screenshots in {HERE}")


if __name__ == "__main__":
    main()
