"""The entity resolution review page (数据资源 → 实体识别) and the district return page (数据资源 → 属地返还) in a
real browser, against ``cityos demo``: the street office's data officer sees a visited enterprise beside its two
close candidates with the values compared and their weights, and settles it; the big-data centre runs a return
grant from the page and reads the run's counts; the district's tenant sees its grant's runs and the records
returned to it; zh-CN first, English on the switch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from chromium import PASSWORD, Demo, log_in

from cityos.demo.registries import credit_code

pytestmark = [pytest.mark.interop, pytest.mark.browser]

DISTRICT = "huangpu-district"  # the district's tenant the return grant returns to
PERSONS = "HP-01-01-0001"  # 户籍人口基本信息, backed by the Person entities
DOMICILE = "上海市黄浦区九江路3号201室"
REGISTERED = [  # two enterprises at one domicile whose names differ by their form only
    {"creditCode": credit_code(901), "name": "上海华新商贸有限公司", "kind": "有限责任公司",
     "legalRepresentative": "王敏", "domicile": DOMICILE, "foundedOn": "2015-03-02"},
    {"creditCode": credit_code(902), "name": "上海华新商贸股份有限公司", "kind": "股份有限公司",
     "legalRepresentative": "王敏", "domicile": DOMICILE, "foundedOn": "2016-05-09"},
]  # fmt: skip
VISITED = [{"name": "华新商贸有限公司", "domicile": "九江路三号二〇一室", "legalRepresentative": "王敏",
            "gridContact": "网格员", "visitedOn": "2026-03-05"}]  # fmt: skip


# data officers of market regulation, the street office and the big-data centre, and an operator of the
# district's tenant (the demo fixture: tests/web/conftest.py)
ACCOUNTS = [
    {"name": "market", "role": "department", "department": "market-regulation"},
    {"name": "street", "role": "department", "department": "street-office"},
    {"name": "bigdata", "role": "department", "department": "big-data"},
    {"name": "district", "role": "operator", "tenant": DISTRICT},
]


def _as(demo: Demo, user: str) -> dict[str, str]:
    login = httpx.post(f"{demo.url}/auth/login", json={"username": user, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


def test_the_providers_data_officer_settles_a_review_decision(page: Any, demo: Demo) -> None:
    fed = demo.http.post("/datahub/feeds/HP-02-01-0001/records", json={"records": REGISTERED},
                         headers=_as(demo, "market"))  # fmt: skip
    assert fed.status_code == 200 and fed.json()["new"] == 2, fed.text
    visits = demo.http.post("/datahub/feeds/HP-02-09-0001/records", json={"records": VISITED},
                            headers=_as(demo, "street"))  # fmt: skip
    assert visits.status_code == 200, visits.text
    (review,) = demo.get("/datahub/resolutions", params={"decision": "review", "settled": "false"})

    log_in(page, demo, "street")
    page.goto(f"{demo.url}/#/data/resolutions")
    card = f"article[data-resolution='{review['id']}']"
    page.wait_for_selector(card)
    assert page.inner_text("#res-title") == "实体识别复核"
    assert page.inner_text("#data-tabs [data-tab=resolutions]") == "实体识别"
    assert page.inner_text(f"{card} tr[data-row=name] td.offered") == "华新商贸有限公司"
    held = {page.inner_text(f"{card} tr[data-row=name] td[data-field=name] >> nth={n}").split("\n")[0] for n in (0, 1)}
    assert held == {r["name"] for r in REGISTERED}  # the street office's own entry: the candidates' names shown
    assert "规范化后一致" in page.inner_text(f"{card} tr[data-row=address]")
    assert page.inner_text(f"{card} td[data-total=best]") == f"{review['best']['total']:.2f}".rstrip("0").rstrip(".")

    page.fill(f"{card} [data-note]", "股份公司为另一主体")
    page.click(f"{card} button[data-outcome=matched][data-entity='{review['best']['candidate']}']")
    page.wait_for_selector("#res-list >> text=没有待复核的识别结果。")
    settled = demo.get(f"/datahub/resolutions/{review['id']}")["settlement"]
    assert (settled["outcome"], settled["entity"], settled["by"]) == ("matched", review["best"]["candidate"], "street")

    page.click("#res-tabs [data-side=settled]")
    page.wait_for_selector(f"#res-settled tr[data-resolution='{review['id']}'] >> text=同一主体")
    page.click("#lang")
    page.wait_for_selector("#res-settled >> text=Same entity")
    page.click("#lang")


def test_the_big_data_centre_runs_a_return_and_the_district_sees_it(page: Any, demo: Demo) -> None:
    body = {"tenant": DISTRICT, "district": "黄浦区", "codes": [PERSONS]}
    made = demo.http.post("/datahub/returns", json=body)
    assert made.status_code == 201, made.text
    grant = made.json()["id"]

    log_in(page, demo, "bigdata")
    page.goto(f"{demo.url}/#/data/returns")
    row = f"#ret-grants tr[data-grant='{grant}']"
    page.wait_for_selector(f"{row} >> text=常态返还")
    assert "尚未返还" in page.inner_text(row)
    page.click(f"{row} [data-run]")
    page.wait_for_selector("#ret-runs tbody tr")
    (run,) = demo.get(f"/datahub/returns/{grant}/runs")
    cells = f"#ret-runs tr[data-run='{run['id']}']"
    for count in ("read", "new", "unchanged"):
        assert page.inner_text(f"{cells} td[data-count={count}]") == f"{run[count]:,}"
    assert page.inner_text(f"{cells} td[data-count=touched]") == f"{run['new'] + run['changed'] + run['removed']:,}"
    assert "全量" in page.inner_text(cells)  # the first run reads every record

    page.click("#logout")
    page.wait_for_selector("#login", state="visible")
    log_in(page, demo, "district")
    page.goto(f"{demo.url}/#/data/returns")
    page.wait_for_selector(f"#ret-runs tr[data-run='{run['id']}']")
    assert page.locator(f"{row} [data-run]").count() == 0  # the city's to run
    page.wait_for_selector("#ret-returned-title >> text=返还到本区的数据")
    assert page.inner_text(f"[data-returned-total='{PERSONS}']") == f"{run['new']:,}"
    page.click("#lang")
    page.wait_for_selector("#ret-title >> text=District return")
    page.click("#lang")
