"""The data quality page (数据资源 → 数据质量) in a real browser, against ``cityos demo``: public security's data
officer runs the persons dataset's rules from the page and sees the run's rules, its failing records with
the reason, the trend over runs and the scores per department and dataset with the six dimensions; civil
affairs sees only its own department; the page switches to English."""

from __future__ import annotations

from typing import Any

import pytest
from chromium import PASSWORD, Demo, log_in

pytestmark = [pytest.mark.interop, pytest.mark.browser]

CODE = "HP-01-01-0001"  # 户籍人口基本信息: public security's, backed by the Person entities


# a civil affairs data officer beside duty and police (the demo fixture: tests/web/conftest.py)
ACCOUNTS = [{"name": "civil", "role": "department", "department": "civil-affairs"}]


def _run_now(page: Any) -> str:
    before = page.evaluate("() => location.hash")
    page.click("#q-run-form button[type=submit]")
    page.wait_for_function(f"() => location.hash !== {before!r} && location.hash.split('/').length === 5")
    page.wait_for_selector("#q-rules tbody tr")
    return str(page.get_attribute("#q-run-title", "data-run"))


def test_a_data_officer_runs_the_rules_and_reads_the_results(page: Any, demo: Demo) -> None:
    log_in(page, demo, "police")
    page.click("nav.views a[href='#/data']")
    page.click("#data-tabs a[data-tab=quality]")
    page.wait_for_selector("#q-title")
    assert page.inner_text("#q-title") == "数据质量检测"
    page.fill("#q-run-form [name=dataset]", CODE)
    first = _run_now(page)
    run = demo.get(f"/datahub/quality/runs/{first}")
    assert run["dataset"] == CODE and run["trigger"] == "api" and run["by"] == "police"
    assert page.locator("#q-rules tbody tr").count() == len(run["results"])
    failed = [r for r in run["results"] if r["failed"]]
    total = sum(r["failed"] for r in run["results"])
    if total:  # every failing record listed with its rule and reason, and a rule's own on a click
        page.wait_for_selector("#q-failure-total")
        assert page.inner_text("#q-failure-total").startswith(str(total))
        rule = failed[0]["rule"]
        page.click(f"#q-rules tr[data-rule='{rule}'] [data-failures]")
        cells = "[...document.querySelectorAll('#q-failures tbody tr td:nth-child(2)')]"
        page.wait_for_function(f"() => {cells}.every(td => td.textContent === {rule!r})")
        reasons = demo.get(f"/datahub/quality/runs/{first}/failures", params={"rule": rule, "limit": 1})
        assert reasons[0]["reason"] in page.inner_text("#q-failures")
    else:
        page.wait_for_selector("#q-failure-list >> text=没有不合格记录。")
    assert page.locator("#q-trend").get_attribute("data-points") == "1"  # one run: no trend yet

    second = _run_now(page)  # a second run: the trend has two points, the runs list both, newest first
    assert second != first
    page.wait_for_selector("svg#q-trend[data-points='2']")
    assert page.locator("#q-runs tbody tr").nth(0).get_attribute("data-run") == second
    assert page.locator(f"#q-runs tr[data-run='{first}']").count() == 1

    row = page.locator("#q-departments tr[data-department=public-security]")
    assert "公安黄浦分局" in row.inner_text()
    scores = demo.get("/datahub/quality/scores", params={"department": "public-security"})
    want = f"{scores['departments'][0]['score'] * 100:.1f}%"
    assert row.locator(".qscore").inner_text() == want
    assert row.locator("td[data-dim]").count() == 6  # the six dimensions
    assert page.locator(f"#q-datasets tr[data-dataset='{CODE}']").count() == 1
    assert "完整性" in page.inner_text("#q-departments thead")

    page.click("#lang")  # English second
    page.wait_for_function("() => (document.querySelector('#q-title') || {}).textContent === 'Data quality'")
    assert "Completeness" in page.inner_text("#q-departments thead")
    page.click("#lang")


def test_another_department_sees_only_its_own_datasets(page: Any, demo: Demo) -> None:
    login = demo.http.post("/auth/login", json={"username": "police", "password": PASSWORD})
    token = login.json()["token"]
    r = demo.http.post("/datahub/quality/runs", json={"dataset": CODE}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    log_in(page, demo, "civil")
    page.goto(f"{demo.url}/#/data/quality")
    page.wait_for_selector("#q-dept-list p, #q-dept-list table")
    assert page.locator("#q-departments tr[data-department=public-security]").count() == 0
    assert page.locator(f"#q-datasets tr[data-dataset='{CODE}']").count() == 0
