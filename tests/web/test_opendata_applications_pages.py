"""Applications for conditional open data (开放申请, issue 19 item 6) in a real browser, against ``cityos demo``:
a visitor applies from a 有条件开放 dataset's page and is shown its key once; the provider department's clerk
approves it on the dashboard's page with terms and a period, refuses another with a reason and revokes the
first; the applicant sees each decision on its own page with the key (zh-CN, then English), and the key opens
the dataset exactly while it is approved."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from chromium import Demo, log_in, watched_page

pytestmark = [pytest.mark.interop, pytest.mark.browser]

TRAFFIC = "hp-07-02-0001"  # 道路交通流量监测数据: 有条件开放, provided by transport
UNTIL = (date.today() + timedelta(days=365)).isoformat()  # an approval lasts at most three years


# the demo's accounts beside duty and police (the demo fixture: tests/web/conftest.py)
ACCOUNTS = [{"name": "transport-clerk", "role": "department", "department": "transport"}]


def _status(page: Any, demo: Demo, key: str) -> str:
    page.goto(demo.url + "/opendata/my-application")
    page.fill("#mine-key", key)
    page.click("#mine-form button[type=submit]")
    page.wait_for_selector("#mine-state")
    return str(page.get_attribute("#mine-state", "data-state"))


def _records(demo: Demo, key: str) -> int:
    r = httpx.get(f"{demo.url}/opendata/datasets/{TRAFFIC}/records.csv", headers={"Authorization": key}, timeout=60)
    return r.status_code


def _show(page: Any, state: str) -> None:
    """The reviewers' list of the applications in ``state``, drawn."""
    if page.get_attribute("#od-list", "data-shown") != state:
        page.select_option("#od-state", state)
    page.wait_for_selector(f"#od-list[data-shown={state}]")


def _decide(page: Any, app_id: str, state: str, form: str, **fields: str) -> None:
    _show(page, state)
    item = f"#od-applications li[data-application='{app_id}']"
    page.wait_for_selector(item)
    for name, value in fields.items():
        page.fill(f"{item} form.{form} [name={name}]", value)
    page.click(f"{item} form.{form} button[type=submit]")
    try:
        page.wait_for_selector(item, state="detached", timeout=15_000)  # decided: it leaves its old state's list
    except Exception:
        pytest.fail(f"not decided: {page.inner_text(f'{item} form.{form} .error')}")


def test_apply_review_and_see_the_decision(browser: Any, demo: Demo) -> None:
    with watched_page(browser) as visitor, watched_page(browser) as clerk:
        visitor.goto(f"{demo.url}/opendata/datasets/{TRAFFIC}")
        visitor.wait_for_selector("#apply-form")
        assert visitor.inner_text("#apply-h") == "申请使用（有条件开放）"
        visitor.fill("#apply-form [name=name]", "张三")
        visitor.fill("#apply-form [name=organisation]", "某出行科技有限公司")
        visitor.fill("#apply-form [name=contact]", "zhang@example.com")
        visitor.fill("#apply-form [name=scenario]", "出行导航")
        visitor.fill("#apply-form [name=purpose]", "拥堵预测模型训练")
        visitor.click("#apply-form button[type=submit]")
        visitor.wait_for_selector("#apply-key")
        key = visitor.inner_text("#apply-key").strip()
        app_id = visitor.get_attribute("[data-application]", "data-application")
        assert key.startswith("odk_") and app_id
        assert visitor.locator("#apply-form").is_hidden()  # shown once: the form is not sent twice
        visitor.click("#lang")  # the page is drawn again in English: the key stays on it
        visitor.wait_for_function("() => document.documentElement.lang === 'en'")
        assert visitor.inner_text("#apply-key").strip() == key and visitor.locator("#apply-form").is_hidden()
        visitor.click("#lang")
        visitor.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
        assert _records(demo, key) == 403  # not approved yet

        assert _status(visitor, demo, key) == "submitted"
        assert visitor.inner_text("#mine-state") == "待审核"
        assert key not in visitor.url  # the key travels as a header, never in the address

        other = httpx.post(f"{demo.url}/opendata/applications", timeout=60, json={
            "dataset": TRAFFIC, "kind": "person", "name": "李四", "contact": "13800000000",
            "purpose": "个人研究", "scenario": "课程作业"}).json()  # fmt: skip

        log_in(clerk, demo, "transport-clerk")
        clerk.goto(demo.url + "/#/opendata")
        clerk.wait_for_selector(f"#od-applications li[data-application='{app_id}']")
        assert clerk.inner_text("#od-title") == "公共数据开放 · 开放申请审核"
        assert "拥堵预测模型训练" in clerk.inner_text(f"li[data-application='{app_id}']")
        _decide(clerk, app_id, "submitted", "od-approve", terms="仅限出行导航使用，不得再分发", until=UNTIL)
        refused = other["application"]["id"]
        item = f"#od-applications li[data-application='{refused}'] form.od-refuse"
        _show(clerk, "submitted")
        clerk.wait_for_selector(item)
        clerk.click(f"{item} button[type=submit]")  # a refusal needs a reason, which the applicant reads
        assert clerk.inner_text(f"{item} .error") == "请填写理由（申请人可见）。"
        _decide(clerk, refused, "submitted", "od-refuse", reason="课程作业请使用无条件开放的数据")

        assert _status(visitor, demo, key) == "approved"
        assert visitor.inner_text("#mine-terms") == "仅限出行导航使用，不得再分发"
        assert UNTIL[:4] in visitor.inner_text("#mine-ends")
        assert visitor.locator("#mine-use").count() == 1
        assert _records(demo, key) == 200  # the key opens exactly its dataset now
        assert _status(visitor, demo, other["key"]) == "refused"
        assert visitor.inner_text("#mine-reason") == "课程作业请使用无条件开放的数据"

        _decide(clerk, app_id, "approved", "od-revoke", reason="超出申请场景使用")
        assert _status(visitor, demo, key) == "revoked"
        assert visitor.inner_text("#mine-reason") == "超出申请场景使用"
        assert _records(demo, key) == 403
        visitor.click("#lang")
        visitor.wait_for_function("() => document.documentElement.lang === 'en'")
        assert visitor.inner_text("#mine-title") == "My application"
        assert visitor.inner_text("#mine-state") == "Revoked"

    # a key no application gave: 404 with what to do (over HTTP: the browser logs a 404 as an error)
    r = httpx.get(f"{demo.url}/opendata/my-application.json", headers={"Authorization": "odk_not-a-key"}, timeout=60)
    assert r.status_code == 404 and "no application gave this key" in r.json()["detail"]
    assert httpx.get(f"{demo.url}/opendata/my-application.json", timeout=60).status_code == 400  # no key at all
