"""What the dashboard's browser tests share: ``cityos demo`` in a subprocess, Debian's Chromium driven by
Playwright (no browser is downloaded), a page that fails its test when it logs an error, and logging in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from brokers import free_port
from conftest import answers_health

from cityos.auth.service import create_account, create_token
from cityos.store.engine import Database

CHROMIUM = os.environ.get("CITYOS_CHROMIUM", "/usr/bin/chromium")
# Chromium as root in a sandbox-less container, and kept off the network this machine does not have.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "demo-password-2026"


class Demo:
    def __init__(self, url: str, admin: str) -> None:
        self.url, self.admin = url, admin
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=30)

    def get(self, path: str, **kw: Any) -> Any:
        r = self.http.get(path, **kw)
        assert r.status_code == 200, r.text
        return r.json()


@contextmanager
def running_demo(where: Path, *options: str) -> Iterator[Demo]:
    """``cityos demo <options>`` on a free port in ``where``; two staff accounts (``duty``, an operator, and
    ``police``, the public security desk) with :data:`PASSWORD`, and an admin token. No demo feeds unless the
    options give ``--persons`` (the last one counts)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOS_")}
    # the demo runs the code under test (this checkout's), not whichever checkout the environment installed
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    env["CITYOS_MODEL_CACHE"] = os.environ["CITYOS_MODEL_CACHE"]  # the run's classifier: no training of its own
    log = (where / "demo.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cityos.cli", "demo", "--no-browser", "--port", str(port), "--persons", "0",
         "--warm-days", "0", *options],
        cwd=where, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        if not answers_health(url, 120):
            pytest.fail(f"cityos demo did not start: {(where / 'demo.log').read_text(errors='replace')[-2000:]}")
        db = Database(f"sqlite:///{(where / 'var' / 'cityos.db').resolve()}")
        create_account(db, "duty", role="operator", password=PASSWORD, display_name="值班长 王敏")
        create_account(db, "police", role="department", password=PASSWORD, department="public-security")
        admin = create_token(db, "ui-test-admin", role="admin", kind="staff")
        db.dispose()
        yield Demo(url, admin)
    finally:
        proc.terminate()
        try:  # a loaded machine can take a minute to drain a demo's writers; the tests are not about that
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium is not at {CHROMIUM}: install Debian's package ('apt-get install chromium') or set "
                    "CITYOS_CHROMIUM; the dashboard tests drive it and download no browser")  # fmt: skip
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextmanager
def watched_page(browser: Any) -> Iterator[Any]:
    """A page of a fresh context; the test fails if the page raised or logged an error (a script that
    failed, a resource the Content-Security-Policy refused)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN", timezone_id="Asia/Shanghai")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(f"{e}: {e.stack}"))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    assert not errors, f"the page raised: {errors}"


def log_in(page: Any, demo: Demo, user: str) -> None:
    page.goto(demo.url + "/")
    page.fill("#login-user", user)
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login", state="hidden")
    page.wait_for_selector("#live[data-state=on]", timeout=10_000)
