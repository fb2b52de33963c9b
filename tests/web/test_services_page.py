"""The clerk's pages of one-stop services (一网通办 · 办件) in a real browser, against ``cityos demo``: the market
regulator's clerk sees only the applications routed to the department, opens one, receives it (the clock
starts), asks for a supplement (a reason required first), and reads the history."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from chromium import PASSWORD, Demo, log_in, running_demo

from cityos.auth.service import create_account
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.onestop import applications as apps
from cityos.runtime import Runtime
from cityos.store.engine import Database

sys.path.insert(0, str(Path(__file__).parent.parent / "onestop"))
from onestop_samples import ANSWERS, ITEMS, RESTAURANT

pytestmark = [pytest.mark.interop, pytest.mark.browser]
DEPARTMENTS = ("market-regulation", "market-regulation", "city-appearance", "fire-rescue", "market-regulation")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, list[str]]]:
    where: Path = tmp_path_factory.mktemp("services-demo")
    with running_demo(where, "--sensors", "0") as d:
        db = Database(f"sqlite:///{(where / 'var' / 'cityos.db').resolve()}")
        create_account(db, "market", role="department", password=PASSWORD, department="market-regulation")
        rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
        items = [replace(i, department=dept) for i, dept in zip(ITEMS, DEPARTMENTS, strict=True)]
        done = apps.submit(rt, "default", apps.Applicant("enterprise", "91310101MA1FPX1234"), RESTAURANT, items,
                           ANSWERS, "ui-1")  # fmt: skip
        rt.bus.close()
        db.dispose()
        yield d, [a.id for a in done.submission.applications]


def test_a_clerk_works_the_departments_queue(page: Any, demo: tuple[Demo, list[str]]) -> None:
    d, ids = demo
    log_in(page, d, "market")
    page.click("nav.views a[href='#/services/queue']")
    page.wait_for_selector("#svc-queue tbody tr")
    assert page.inner_text("#svc-title") == "一网通办 · 办件"
    rows = page.locator("#svc-queue tbody tr")
    assert rows.count() == 3  # the market regulator's three of five; not the fire or the signboard one
    assert [rows.nth(i).get_attribute("data-application") for i in range(3)] == [ids[0], ids[1], ids[4]]
    assert ids[3] not in page.inner_text("#svc-list")
    page.click(f"#svc-queue tr[data-application='{ids[0]}'] a")
    page.wait_for_selector(f"#svc-review-title[data-application='{ids[0]}']")
    assert page.inner_text("#svc-state") == "已提交"
    page.click("#svc-act [data-action=receive]")
    page.wait_for_selector("#svc-state[data-state=received]")
    assert "个工作日" in page.inner_text("#svc-promised")
    page.click("#svc-act [data-action=request-supplement]")
    assert page.inner_text("#svc-error") == "请先填写理由。"
    page.fill("#svc-act [name=reason]", "请补充经营场所使用证明")
    page.click("#svc-act [data-action=request-supplement]")
    page.wait_for_selector("#svc-state[data-state=supplement-requested]")
    assert page.inner_text("#svc-reasons") == "请补充经营场所使用证明"
    assert page.locator("#svc-history tbody tr").count() == 3
    stored = d.get(f"/onestop/applications/{ids[0]}")
    assert [h["action"] for h in stored["history"]] == ["submit", "receive", "request-supplement"]
    assert stored["history"][-1]["actor"] == "market" and stored["clock"]["pausedSince"] is not None
    assert page.locator("#svc-act [data-action=resume]").count() == 0  # nothing a clerk may do while 补正
