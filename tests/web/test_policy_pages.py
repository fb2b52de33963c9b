"""Policy matching in a real browser, against ``cityos demo`` (issue 21 item 2): the policy office (the duty
operator) opens 政策找人 in the dashboard's 一网通办 section, runs 高龄津贴 over the demo's residents (in the
background: the page follows the run until it is done) and sees who matched and why, addresses masked; a
matched person logs in to the portal, finds the notice under 我的消息 · 政策推送 and confirms it (意愿确认), and
the office's counts show it granted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from chromium import Demo, log_in

pytestmark = [pytest.mark.interop, pytest.mark.browser]
CODE = "P-ELDER-ALLOWANCE"
SLOW = 90_000  # ms: a login and a run on a loaded machine


def _id_card(d: Demo, entity_id: str) -> str:
    entity = d.get(f"/ngsi-ld/v1/entities/{entity_id}", params={"options": "keyValues"})
    return str(entity["idCard"])


def test_the_office_runs_a_policy_and_a_person_confirms_the_benefit(page: Any, demo: Demo) -> None:
    d = demo
    log_in(page, d, "duty")
    page.click("nav.views a[href='#/services/queue']")
    page.click("#svc-policies")
    page.wait_for_selector("#pol-list tbody tr")
    assert page.locator("#pol-list tbody tr").count() >= 10
    page.click(f"#pol-list tr[data-policy='{CODE}'] a")
    page.wait_for_selector("#pol-run")
    assert "age >= 80" in page.inner_text("#pol-condition")
    page.click("#pol-run")
    page.wait_for_selector("#pol-runs tr[data-run] td[data-state='done']", timeout=SLOW)  # done in the background
    assert int(page.inner_text("#pol-runs tr[data-run] td[data-read]")) >= 1  # the records it read
    rows = page.locator("#pol-matches tbody tr")
    assert rows.count() >= 1
    shown = page.inner_text("#pol-matches tbody")
    assert "上海市黄浦区" in shown and "室" not in shown  # the address cut after the street (masked)

    detail = d.get(f"/onestop/policies/{CODE}")
    matched = detail["matches"][0]
    card = _id_card(d, matched["subjectId"])
    portal = page.context.new_page()
    portal.goto(d.url + "/onestop/login")
    portal.wait_for_selector("#subjects li", timeout=SLOW)  # the login module has loaded and holds the form
    portal.fill("#subject", card)
    portal.fill("#code", "123456")
    portal.click("#login button[type=submit]")
    portal.wait_for_url(d.url + "/onestop/", timeout=SLOW)
    notice = f"#notices li[data-policy='{CODE}']"
    portal.wait_for_selector(notice, timeout=SLOW)
    assert portal.inner_text("#notices h2") == "我的消息 · 政策推送"
    assert "高龄津贴" in portal.inner_text(notice) and "待确认" in portal.inner_text(notice)
    portal.click(f"{notice} button[data-confirm]")
    portal.wait_for_selector(f"{notice} [data-state='granted']", timeout=SLOW)
    assert "已享受" in portal.inner_text(notice)
    portal.close()

    after = httpx.get(f"{d.url}/onestop/policies/{CODE}", headers={"Authorization": f"Bearer {d.admin}"}).json()
    assert after["policy"]["counts"]["granted"] == 1
    page.reload()
    page.wait_for_selector("#pol-counts")
    assert "已发放 1" in " ".join(page.inner_text("#pol-counts").split())
