"""好差评 in a real browser, against ``cityos demo``: the main screen's figures show the 好评率 and the open
follow-ups; the market regulator's clerk opens the 一网通办 section's ratings page, reads the 好评率, the counts and
its 差评 to answer, and answers one (an answer required first); on the portal, a demo person sees its rating of
a handled application and rates another from its page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import PASSWORD, Demo, log_in, running_demo
from conftest import wait_for

from cityos.auth.service import create_account
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.onestop import applications as apps
from cityos.onestop import bundle, item, ratings
from cityos.onestop.workflow import Action
from cityos.runtime import Runtime
from cityos.store.engine import Database

pytestmark = [pytest.mark.interop, pytest.mark.browser]


def _subjects(d: Demo) -> Any:
    r = httpx.get(d.url + "/onestop/login/demo/subjects", timeout=120)  # a loaded machine, a demo still loading
    return r.json() if r.status_code == 200 else {"status": r.status_code}


def _person(d: Demo, asked: list[float] | None = None) -> Any:
    """A demo person to log in as, once the demo has loaded its registries. ``asked``: when it was last
    asked, so that a poll asks every 2 s at most (the route is rate-limited per address)."""
    if asked is not None:
        if asked and time.monotonic() - asked[-1] < 2:
            return None
        asked.append(time.monotonic())
    return next((s for s in _subjects(d).get("subjects", []) if s["kind"] == "person"), None)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, list[str]]]:
    """A demo with 新生儿出生一件事 submitted by a demo person, its items routed to health: the first approved and
    rated 5, the second refused and rated 1 (a follow-up for health), the third approved and not rated.
    (the follow-up, the submission, the third's application)"""
    where: Path = tmp_path_factory.mktemp("ratings-demo")
    with running_demo(where, "--sensors", "0") as d:
        db = Database(f"sqlite:///{(where / 'var' / 'cityos.db').resolve()}")
        create_account(db, "health-clerk", role="department", password=PASSWORD, department="health")
        rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
        asked: list[float] = []
        found = wait_for(lambda: _person(d, asked), 300, what=lambda: _subjects(d))
        owner = apps.Applicant("person", found["key"])
        newborn = bundle("newborn")
        items = [replace(item(rt, b.item), department="health") for b in newborn.items]
        done = apps.submit(rt, "default", owner, newborn, items, {}, "ui-rate")
        clerk = apps.Actor(name="health-clerk", handles=True, department="health")
        first, second, third = (a.id for a in done.submission.applications[:3])
        for app in (first, third):
            apps.act(rt, "default", app, Action.RECEIVE, clerk)
            apps.act(rt, "default", app, Action.APPROVE, clerk)
        apps.act(rt, "default", second, Action.REFUSE, clerk, "材料不齐")
        ratings.rate_application(rt, "default", owner, first, 5, ["fast"], None, "online")
        bad = ratings.rate_application(rt, "default", owner, second, 1, ["runaround"], "跑了三趟", "window")
        rt.bus.close()
        db.dispose()
        assert bad.follow_up is not None
        yield d, [bad.follow_up.id, done.submission.id, third]


def test_the_good_rate_and_the_follow_ups_on_the_dashboard(page: Any, demo: tuple[Demo, list[str]]) -> None:
    d, (follow_up, _, _) = demo
    log_in(page, d, "health-clerk")
    page.wait_for_selector("#figures [data-figure=good-rate]")
    assert page.inner_text("#figures [data-figure=good-rate] dd") == "50%"
    assert page.inner_text("#figures [data-figure=follow-ups] dd") == "1"
    page.click("nav.views a[href='#/services/queue']")
    page.wait_for_selector("#svc-queue tbody tr, #svc-empty")  # the queue drawn before the page is left
    page.click("#svc-ratings")
    page.wait_for_selector(f"#rt-follow-ups [data-follow-up='{follow_up}']")
    assert page.inner_text("#rt-title") == "一网通办 · 好差评"
    assert page.inner_text("#rt-figures [data-figure=good-rate]") == "50%"
    assert page.inner_text("#rt-figures [data-figure=open]") == "1"
    card = page.locator(f"[data-follow-up='{follow_up}']")
    assert "非常不满意" in card.inner_text() and "跑了三趟" in card.inner_text()
    card.locator("button[type=submit]").click()
    assert card.locator(".error").inner_text() == "请先填写答复。"
    card.locator("[name=text]").fill("已致电致歉，并一次性告知所需材料")
    card.locator("button[type=submit]").click()
    page.wait_for_selector("#rt-empty")
    stored = d.get(f"/onestop/rating-follow-ups/{follow_up}")
    assert (
        stored["followUp"]["state"] == "answered" and stored["followUp"]["answer"] == "已致电致歉，并一次性告知所需材料"
    )
    assert [h["action"] for h in stored["followUp"]["history"]] == ["open", "answer"]


def test_a_person_rates_a_handled_application_on_the_portal(browser: Any, demo: tuple[Demo, list[str]]) -> None:
    d, (_, submission, signboard) = demo
    who = _person(d)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(d.url + "/onestop/login")
    page.click(f"#subjects button[data-subject='{who['key']}']")
    page.fill("#code", "123456")
    page.click("#login button[type=submit]")
    page.wait_for_url(d.url + "/onestop/")
    page.goto(f"{d.url}/onestop/#/submission/{submission}")
    page.wait_for_selector(".rated[data-level='5']")
    assert "非常满意" in page.inner_text(".rated[data-level='5']")
    box = page.locator(f".application[data-application='{signboard}'] .rating")
    box.locator("button[type=submit]").click()
    assert box.locator(".error").inner_text() == "请先选择满意程度。"
    box.locator("input[name=level][value='2']").check()
    box.locator("input[name=reason][value=slow]").check()
    box.locator("[name=comment]").fill("等了很久")
    box.locator("button[type=submit]").click()
    page.wait_for_selector(f".application[data-application='{signboard}'] .rated[data-level='2'] .followup")
    assert "待整改" in box.inner_text()
    token = page.evaluate("() => sessionStorage.getItem('cityos.onestop.token')")
    mine = httpx.get(d.url + "/onestop/me/ratings", headers={"Authorization": f"Bearer {token}"}).json()
    assert {r["subjectId"]: r["level"] for r in mine}[signboard] == 2
    context.close()
    assert not errors, errors
