"""The open data portal's public pages in a real browser, against ``cityos demo`` (issue 19 items 1 and 7): no
login; a dataset found by a facet, its records previewed, filtered and sorted, its usage chart counting the
view, its download link; the language switch."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import Demo

pytestmark = [pytest.mark.interop, pytest.mark.browser]

CATALOGUE = "hp-18-01-0001"  # 数据资源目录: the catalogue's own entries, a table every demo holds


def _cells(page: Any, field: str) -> list[str]:
    return list(page.eval_on_selector_all(f"#preview td[data-field={field}]", "els => els.map(e => e.textContent)"))


def test_a_visitor_finds_previews_and_sees_the_view_counted(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/opendata/")
    page.wait_for_selector("#results li")
    assert page.inner_text("h1") == "公共数据开放"
    total = int(page.inner_text("#count"))
    page.click("[data-facet=organization] a[data-value=big-data]")  # 区大数据中心: one dataset
    count = "document.querySelector('#count')"
    page.wait_for_function(f"() => {count} && +{count}.textContent < {total}")
    assert page.locator(f"#results li[data-name={CATALOGUE}]").count() == 1
    assert page.get_attribute("[data-facet=organization] a[data-value=big-data]", "aria-current") == "true"
    twin = httpx.get(demo.url + "/opendata/index.json", params={"organization": "big-data"}).json()
    assert [d["name"] for d in twin["results"]] == [CATALOGUE]

    page.click(f"#results li[data-name={CATALOGUE}] a")
    page.wait_for_selector("#preview tbody tr")
    assert page.inner_text("#dataset-title") == "数据资源目录"
    page.wait_for_function("() => +document.querySelector('#usage-chart').dataset.views >= 1")
    assert page.locator("#usage-chart canvas").count() == 1
    link = page.locator("#downloads a").first
    assert link.get_attribute("href").endswith(f"/opendata/datasets/{CATALOGUE}/records.csv")
    with page.expect_download() as got:  # the CSV opens with its Chinese intact (UTF-8 with a BOM, for Excel)
        link.click()
    data = Path(got.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) > 1 and any("\u4e00" <= ch <= "\u9fff" for row in rows[1:] for cell in row for ch in cell)

    page.click("#preview th button[data-sort=code]")  # sort by code, then the other way round
    page.wait_for_selector("#preview[data-sort='code asc']")
    codes = _cells(page, "code")
    assert codes == sorted(codes)
    page.click("#preview th button[data-sort=code]")
    page.wait_for_selector("#preview[data-sort='code desc']")
    assert _cells(page, "code") == sorted(_cells(page, "code"), reverse=True)

    page.select_option("#filter-form select[name=field]", "provider")  # filter: one department's entries
    page.fill("#filter-form input[name=value]", "transport")
    page.click("#filter-form button[type=submit]")
    cells = "[...document.querySelectorAll('#preview td[data-field=provider]')]"
    page.wait_for_function(f"() => {cells}.every(td => td.textContent === 'transport')")
    assert len(_cells(page, "provider")) >= 1

    page.reload()  # a second view, counted at once (the counts not yet written are read with the stored ones)
    # the chart is drawn again after the reload: until it is there, the count reads as NaN and the wait goes on
    page.wait_for_function("() => +document.querySelector('#usage-chart')?.dataset.views >= 2")


def test_the_pages_switch_to_english_and_the_theme_and_department_pages(page: Any, demo: Demo) -> None:
    page.goto(demo.url + "/opendata/groups/environment")
    page.wait_for_selector("#results li")
    assert page.inner_text("#listing-title") == "生态环境"
    page.click("#lang")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.inner_text("h1") == "Open data"
    page.goto(demo.url + "/opendata/organizations/transport")
    page.wait_for_selector("#results li")
    assert page.inner_text("#listing-title") == "区交通委"
    assert page.get_attribute("#json-link", "href").endswith("/opendata/organizations/transport.json")
