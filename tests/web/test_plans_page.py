"""The plans' main indicators (主要指标) in a real browser, against ``cityos demo`` (whose plans role defines them and
writes their figures): the page lists each with its value, target and definition in Chinese first, and in English
on switching; the headline ones show in the overview's figures strip with the values the API gives."""

from __future__ import annotations

from typing import Any

import pytest
from chromium import Demo, log_in
from conftest import wait_for

from cityos import plans

pytestmark = [pytest.mark.interop, pytest.mark.browser]


def board(d: Demo) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in d.get("/plans/indicators")["indicators"]}


def computed(d: Demo) -> dict[str, dict[str, Any]] | None:
    """The board once the engine has a value of every figure that has one now (datasets, devices)."""
    b = board(d)
    ready = all(b.get(i, {}).get("value") is not None for i in ("plan_open_datasets", "plan_iot_devices"))
    return b if ready else None


def test_the_page_lists_each_indicator_with_its_target_and_definition(page: Any, demo: Demo) -> None:
    shown = wait_for(lambda: computed(demo), 60)
    log_in(page, demo, "duty")
    page.click("nav.views a[href='#/plans']")
    page.wait_for_selector("#plan-table tbody tr")
    assert page.inner_text("#plan-title") == "规划主要指标"
    rows = page.locator("#plan-table tbody tr")
    assert [rows.nth(n).get_attribute("data-indicator") for n in range(rows.count())] == list(shown)
    assert {e.indicator.id for e in plans.shipped()} == set(shown)
    online = "#plan-table tr[data-indicator=plan_online_share]"
    assert page.inner_text(f"{online} .plan-target") == "不低于 80.0%"
    assert "30" in page.inner_text(f"{online} .plan-definition")
    cases = "#plan-table tr[data-indicator=plan_case_on_time_rate] .plan-target"
    assert page.inner_text(cases) == "由运营方设定"
    datasets = shown["plan_open_datasets"]["value"]
    assert page.inner_text("#plan-table tr[data-indicator=plan_open_datasets] .plan-value").startswith(
        f"{datasets:,.0f} datasets"
    )
    page.click("#lang")
    page.wait_for_selector("#plan-title:has-text('main indicators')")
    assert page.inner_text(cases) == "set by the operator"
    assert page.inner_text(f"{online} .plan-target") == "at least 80.0%"


def test_the_headline_indicators_show_on_the_main_screen(page: Any, demo: Demo) -> None:
    shown = wait_for(lambda: computed(demo), 60)
    log_in(page, demo, "duty")
    headline = [i for i in shown.values() if i["headline"]]
    assert len(headline) >= 3
    for i in headline:
        figure = page.wait_for_selector(f"#figures [data-figure='plan-{i['id']}']")
        assert figure.inner_text().startswith(i["nameZh"])
    value = page.inner_text("#figures [data-figure='plan-plan_open_datasets'] dd")
    assert value == f"{shown['plan_open_datasets']['value']:,.0f} datasets"
