"""The data resources pages (数据资源) in a real browser, against ``cityos demo``: the demo catalogue by
classification, an entry with its items and levels, a grant asked for by one department's data officer and
approved by the provider's in the page, another narrowed (items, lifted level, period), "who used my data"
(数据使用记录) at a counter, and the audit view (审计查看) for the city and for a department."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from chromium import PASSWORD, Demo, log_in

pytestmark = [pytest.mark.interop, pytest.mark.browser]

CODE = "HP-01-01-0001"  # 户籍人口基本信息, public security's, 有条件共享, backed by Person entities
ID_CARD = "310101199001011234"
SCENARIO = "临时救助审核"  # a scenario the demo grants none for
SHANGHAI = ZoneInfo("Asia/Shanghai")


# a civil affairs data officer beside duty and police (the demo fixture: tests/web/conftest.py)
ACCOUNTS = [{"name": "civil", "role": "department", "department": "civil-affairs"}]


def _as(demo: Demo, user: str, path: str, **params: str) -> httpx.Response:
    """A GET by one of the demo's staff accounts, logged in with its password."""
    login = httpx.post(f"{demo.url}/auth/login", json={"username": user, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    return httpx.get(f"{demo.url}{path}", params=params, headers=headers)


def _post_as(demo: Demo, user: str, path: str, body: dict[str, Any]) -> httpx.Response:
    login = httpx.post(f"{demo.url}/auth/login", json={"username": user, "password": PASSWORD})
    return httpx.post(f"{demo.url}{path}", json=body, headers={"Authorization": f"Bearer {login.json()['token']}"})


def shot(page: Any, name: str) -> None:
    """A screenshot in $CITYOS_SCREENSHOTS, if set."""
    folder = os.environ.get("CITYOS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), animations="disabled")


def _rows(page: Any) -> int:
    return int(page.locator("#data-list tbody tr").count())


def test_the_catalogue_narrows_by_classification_and_an_entry_shows_its_items(page: Any, demo: Demo) -> None:
    log_in(page, demo, "duty")
    page.click("nav.views a[href='#/data']")
    page.wait_for_selector("#data-list tbody tr")
    every = len(demo.get("/datahub/catalogue", params={"limit": 1000}))  # the demo catalogue's entries (77 now)
    assert every >= 76 and page.inner_text("#data-total") == str(every) and _rows(page) == every
    page.click("#data-tree [data-path='基础信息/人口']")
    page.wait_for_function("() => document.querySelector('#data-path').textContent === '基础信息/人口'")
    page.wait_for_function(f"() => document.querySelectorAll('#data-list tbody tr').length < {every}")
    people = demo.get("/datahub/catalogue", params={"classification": "基础信息/人口", "limit": 1000})
    page.wait_for_function(f"() => document.querySelectorAll('#data-list tbody tr').length === {len(people)}")
    assert page.inner_text("#data-total") == str(len(people))
    shot(page, "data-catalogue")
    page.select_option("#data-dept", "civil-affairs")  # and by department
    theirs = demo.get("/datahub/catalogue", params={"classification": "基础信息/人口", "department": "civil-affairs"})
    page.wait_for_function(f"() => document.querySelectorAll('#data-list tbody tr').length === {len(theirs)}")
    page.select_option("#data-dept", "")
    page.wait_for_function(f"() => document.querySelectorAll('#data-list tbody tr').length === {len(people)}")
    page.fill("#data-q", "户籍人口基本信息")
    page.press("#data-q", "Enter")  # the search box, from the keyboard
    page.wait_for_selector(f"#data-list tbody tr[data-code='{CODE}']")
    page.click(f"#data-list tr[data-code='{CODE}'] a")
    page.wait_for_selector("#entry-items")
    assert page.inner_text("#entry-title").startswith("户籍人口基本信息")
    id_row = page.locator("#entry-items tr[data-item=idCard]")
    assert "公民身份号码" in id_row.inner_text() and "重要数据" in id_row.inner_text()
    entry = demo.get(f"/datahub/catalogue/{CODE}")
    assert page.locator("#entry-items tbody tr").count() == len(entry["items"])
    assert "有条件共享" in page.inner_text(".entry .kv")
    shot(page, "data-entry")
    page.click("#lang")  # the English switch re-renders the page
    page.wait_for_function("() => document.querySelector('#data-title').textContent === 'Data resources'")
    page.click("#lang")


def test_a_grant_is_requested_and_approved_in_the_page_and_the_read_shows_at_the_counter(page: Any, demo: Demo) -> None:
    # the demo's first resident, on the first page of the records (a scenario of its own: the demo's grants
    # for other scenarios do not count)
    resident = demo.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Person:hp-0001", params={"options": "keyValues"})
    id_card, name = resident["idCard"], resident["name"]

    # civil affairs asks for the entry from its page
    log_in(page, demo, "civil")
    page.goto(f"{demo.url}/#/data/entry/{CODE}")
    page.click("#entry-request")
    page.wait_for_selector("#grant-form")
    assert page.input_value("#grant-form [name=code]") == CODE
    page.wait_for_selector("#grant-items")
    for box in page.locator("#grant-items [name=items]").all():  # the items needed, no more
        box.set_checked(box.get_attribute("value") in ("idCard", "name"))
    page.fill("#grant-form [name=scenario]", SCENARIO)
    page.fill("#grant-form [name=purpose]", "核对低保申请人户籍")
    page.fill("#grant-form [name=legalBasis]", "《社会救助暂行办法》")
    page.click("#grant-form button[type=submit]")
    page.wait_for_selector("#grant-list tr[data-grant] >> text=待审批")
    grant_id = page.locator("#grant-list tr[data-grant]").first.get_attribute("data-grant")
    assert page.locator(f"#grant-list tr[data-grant='{grant_id}'] [data-move]").count() == 0  # not its own to decide
    page.click("#logout")
    page.wait_for_selector("#login", state="visible")

    # public security, the provider, approves it on its side of the list
    log_in(page, demo, "police")
    page.goto(f"{demo.url}/#/data/grants")
    page.click("#grant-tabs [data-side=provider]")
    page.click(f"#grant-list tr[data-grant='{grant_id}'] [data-move=approve]")
    page.wait_for_selector(f"#grant-list tr[data-grant='{grant_id}'] >> text=已授权")
    shot(page, "data-grants")
    grant = demo.get(f"/datahub/grants/{grant_id}")
    assert grant["state"] == "approved" and grant["items"] == ["idCard", "name"]
    page.click("#logout")
    page.wait_for_selector("#login", state="visible")

    # civil affairs reads through the grant in the page, masked by the rules; the counter sees that read
    log_in(page, demo, "civil")
    page.goto(f"{demo.url}/#/data/entry/{CODE}")
    page.fill("#records-form [name=scenario]", SCENARIO)
    page.fill("#records-form [name=purpose]", "核对低保申请人户籍")
    page.click("#records-form button[type=submit]")
    page.wait_for_selector("#records-table tbody tr")
    shown = page.inner_text("#records-table")
    assert f"{id_card[:6]}********{id_card[-4:]}" in shown and id_card not in shown
    assert name[0] + "*" * (len(name) - 1) in shown and name not in shown
    page.click("#logout")
    page.wait_for_selector("#login", state="visible")
    log_in(page, demo, "duty")
    page.goto(f"{demo.url}/#/data/usage")
    page.fill("#usage-subject", id_card)
    page.click("#usage-form button[type=submit]")
    page.wait_for_selector("#usage-list tbody tr")
    row = page.inner_text("#usage-list tbody tr")
    shot(page, "data-usage")
    assert "区民政局" in row and CODE in row and SCENARIO in row and grant_id in row


def test_a_refused_read_shows_its_detail(browser: Any, demo: Demo) -> None:
    # the browser logs the 403 itself: this page fails its test on a script error only
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, demo, "civil")  # a read for a scenario no grant names: 403 no-grant, its detail shown
    page.goto(f"{demo.url}/#/data/entry/{CODE}")
    page.fill("#records-form [name=scenario]", "其他场景")
    page.click("#records-form button[type=submit]")
    page.wait_for_selector("#records .error")
    refused = _as(demo, "civil", f"/datahub/datasets/{CODE}/records", scenario="其他场景")
    assert refused.status_code == 403 and refused.json()["detail"] in page.inner_text("#records .error")
    page.click("#logout")
    page.wait_for_selector("#login", state="visible")
    log_in(page, demo, "police")  # a department may not look up whose data was used
    page.goto(f"{demo.url}/#/data/usage")
    page.wait_for_selector("#data-tabs")
    assert page.locator("#data-tabs [data-tab=usage]").count() == 0
    page.fill("#usage-subject", ID_CARD)
    page.click("#usage-form button[type=submit]")
    page.wait_for_selector("#usage-list .error")
    r = _as(demo, "police", "/datahub/usage", subject=ID_CARD)
    assert r.status_code == 403 and r.json()["detail"] in page.inner_text("#usage-list .error")
    context.close()
    assert not errors


def test_a_grant_is_narrowed_in_the_page_by_its_items_level_and_period(browser: Any, demo: Demo) -> None:
    # the browser logs the API's 400 itself: this page fails its test on a script error only
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    ends = datetime.now(SHANGHAI).date() + timedelta(days=365)
    asked = _post_as(demo, "civil", "/datahub/grants", {
        "code": CODE, "scenario": "老年人走访", "purpose": "核对走访对象户籍", "legalBasis": "《上海市养老服务条例》",
        "items": ["idCard", "name", "registeredAddress"], "endsAt": f"{ends.isoformat()}T00:00:00+08:00"})  # fmt: skip
    assert asked.status_code == 201, asked.text
    grant_id = asked.json()["id"]
    log_in(page, demo, "police")
    page.goto(f"{demo.url}/#/data/grants")
    page.click("#grant-tabs [data-side=provider]")
    page.click(f"#grant-list tr[data-grant='{grant_id}'] [data-move=narrow]")
    page.wait_for_selector("#move-form #narrow-lifts")
    assert page.input_value("#narrow-ends") == ends.isoformat()  # the period as asked
    assert page.locator("#narrow-lifts option").all_inner_texts()[1:] == ["一般数据（一级）"]  # below general-2
    page.fill("#narrow-ends", (ends + timedelta(days=30)).isoformat())  # longer: the API refuses it
    page.click("#move-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#grant-error').textContent.includes('shorten')")
    shorter = ends - timedelta(days=180)
    page.fill("#narrow-ends", shorter.isoformat())
    page.select_option("#narrow-lifts", "general-1")
    page.locator("#grant-items [name=items][value=registeredAddress]").set_checked(False)
    page.fill("#move-form [name=reason]", "地址非走访所需；半年足够")
    shot(page, "data-narrow")
    page.click("#move-form button[type=submit]")
    page.wait_for_selector(f"#grant-list tr[data-grant='{grant_id}'] >> text=已授权")
    grant = demo.get(f"/datahub/grants/{grant_id}")
    assert grant["lifts"] == "general-1" and grant["items"] == ["idCard", "name"]
    assert datetime.fromisoformat(grant["endsAt"]).astimezone(SHANGHAI).date() == shorter
    narrowed = grant["history"][-1]
    assert narrowed["action"] == "narrow" and set(narrowed["changes"]) == {"items", "lifts", "ends_at"}
    context.close()
    assert not errors


def test_the_audit_view_lists_filters_and_keeps_to_what_a_department_may_see(page: Any, demo: Demo) -> None:
    resident = demo.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Person:hp-0001", params={"options": "keyValues"})
    log_in(page, demo, "duty")
    page.goto(f"{demo.url}/#/data/usage")  # a lookup at the counter: recorded, of its own kind
    page.fill("#usage-subject", resident["idCard"])
    page.click("#usage-form button[type=submit]")
    page.wait_for_selector("#usage-list table, #usage-list p")
    page.goto(f"{demo.url}/#/audit")
    page.wait_for_selector("#audit-table tbody tr")
    page.wait_for_selector("#audit-chain [data-consistent=true]")
    total = int(_as(demo, "duty", "/datahub/audit", limit="1").headers["X-Total-Count"])
    assert page.inner_text("#audit-range").endswith(f"/ {total}")
    assert page.locator("#audit-table tbody tr").count() == min(total, 50)
    assert resident["idCard"] not in page.inner_text("#audit-table")  # records, never the values read
    assert page.locator("#data-tabs [data-tab=audit][aria-current=page]").count() == 1
    page.select_option("#audit-filter [name=kind]", "lookup")
    page.click("#audit-filter button[type=submit]")
    lookups_only = "[...document.querySelectorAll('#audit-table tbody tr')].every(r => r.dataset.kind === 'lookup')"
    page.wait_for_function(f"() => document.querySelector('#audit-table tbody tr') && {lookups_only}")
    first = page.locator("#audit-table tbody tr").first.inner_text()
    assert "使用记录查询" in first and "duty" in first and "GET /datahub/usage" in first
    page.select_option("#audit-filter [name=kind]", "")
    page.fill("#audit-filter [name=code]", CODE)
    page.click("#audit-filter button[type=submit]")
    coded = int(_as(demo, "duty", "/datahub/audit", code=CODE, limit="1").headers["X-Total-Count"])
    page.wait_for_function(f"() => document.querySelector('#audit-range').textContent.endsWith('/ {coded}')")
    shot(page, "data-audit")
    page.click("#logout")
    page.wait_for_selector("#login", state="visible")

    log_in(page, demo, "police")  # public security: the reads of its entries and its own, no lookups
    page.goto(f"{demo.url}/#/audit")
    page.wait_for_selector("#audit-table tbody tr")
    theirs = _as(demo, "police", "/datahub/audit", limit="1000")
    assert theirs.status_code == 200
    assert page.inner_text("#audit-range").endswith(f"/ {theirs.headers['X-Total-Count']}")
    assert int(theirs.headers["X-Total-Count"]) < total
    assert all(r["kind"] == "read" and (r["code"] == CODE or r["department"] == "public-security")
               for r in theirs.json())  # fmt: skip
    assert page.locator("#audit-table tbody tr[data-kind=lookup]").count() == 0


def test_an_objection_is_made_from_a_read_and_corrected_by_the_sources_data_officer(page: Any, demo: Demo) -> None:
    first = "urn:ngsi-ld:Person:hp-0001"  # the demo's civil affairs objection to its address is open
    log_in(page, demo, "civil")
    page.goto(f"{demo.url}/#/data/entry/{CODE}")
    page.fill("#records-form [name=scenario]", "低保资格核验")  # the demo's grant for civil affairs
    page.click("#records-form button[type=submit]")
    row = f"#records-table tr[data-record='{first}']"
    page.wait_for_selector(f"{row} [data-disputed=registeredAddress]")  # flagged while open
    assert "有异议" in page.inner_text(row)
    page.click(f"{row} [data-object]")
    page.select_option("#object-form [name=item]", "name")
    page.fill("#object-form [name=evidence]", "申请人户口簿上的姓名与此不同")
    page.fill("#object-form [name=proposedValue]", "王建国")
    page.click("#object-form button[type=submit]")
    page.wait_for_selector("#object-done")
    oid = page.get_attribute("#object-done", "data-objection")
    assert "公安黄浦分局" in page.inner_text("#object-done")
    page.click("#logout")
    page.wait_for_selector("#login", state="visible")

    # public security's data officer: the objections on its items, the overdue first, moved in the page
    log_in(page, demo, "police")
    page.goto(f"{demo.url}/#/data/objections")
    page.wait_for_selector(f"#obj-list tr[data-objection='{oid}']")
    assert page.locator("#obj-list tbody tr").first.get_attribute("class") == "overdue"
    assert page.locator("#obj-list tbody tr").first.locator("[data-overdue]").count() == 1
    page.click(f"#obj-list tr[data-objection='{oid}'] [data-move=accept]")
    page.wait_for_selector(f"#obj-list tr[data-objection='{oid}'] >> text=核实中")
    page.click(f"#obj-list tr[data-objection='{oid}'] [data-move=correct]")
    assert page.input_value("#obj-move-form [name=value]") == "王建国"  # the proposed value, to confirm
    page.click("#obj-move-form button[type=submit]")
    page.wait_for_selector(f"#obj-list tr[data-objection='{oid}'] >> text=已更正")
    shot(page, "data-objections")
    done = demo.get(f"/datahub/objections/{oid}")
    assert done["state"] == "corrected" and "civil-affairs" in done["notified"]
    told = _as(demo, "civil", "/datahub/objection-notices").json()
    assert any(n["objectionId"] == oid and n["after"] == "王**" for n in told)  # masked: re-read to see it
    page.click("#lang")
    page.wait_for_function("() => document.querySelector('#obj-title').textContent === 'Objections to data values'")
    page.click("#lang")
