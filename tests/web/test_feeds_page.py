"""The feeds page (数据资源 → 数据归集) in a real browser, against ``cityos demo`` with a smaller feed: the five
departments' runs as they landed with their counts, a run's rejected records with their lines, and the
conflicts on public security's items for its data officer, counted per item and per offering department and
narrowed by one; zh-CN first, English on the switch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from chromium import Demo, log_in, running_demo
from conftest import wait_for

from cityos.demo.feeds import SOURCE, DemoFeed, demo_feeds, policy_feeds, registry_feeds
from cityos.demo.people import build_residents

pytestmark = [pytest.mark.interop, pytest.mark.browser]

PERSONS = 3000
ATTRIBUTE = {"partyAName": "name"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``cityos demo`` without sensors, loaded: its feeds of 3,000 persons landed (and the case classifier,
    which a stopping demo would wait for)."""
    with running_demo(tmp_path_factory.mktemp("demo"), "--sensors", "0", "--persons", str(PERSONS)) as d:
        wait_for(lambda: not d.get("/health")["loading"], 180, what=lambda: d.get("/health"))
        yield d


@pytest.fixture(scope="module")
def planted() -> list[DemoFeed]:
    return demo_feeds(PERSONS, avoid={r.id_card for r in build_residents()})


def _cells(page: Any, row: str, count: str) -> str:
    return str(page.inner_text(f"{row} td[data-count={count}]"))


def test_the_city_sees_every_run_and_a_runs_rejections(page: Any, demo: Demo, planted: list[DemoFeed]) -> None:
    log_in(page, demo, "duty")
    page.goto(f"{demo.url}/#/data/feeds")
    page.wait_for_selector("#data-tabs [data-tab=feeds][aria-current=page] >> text=数据归集")
    # the persons', the policies' (only-child certificates, the uninsured), then the other registries'
    every = len(planted) + len(policy_feeds(PERSONS)) + len(registry_feeds(max(100, PERSONS // 5)))
    page.wait_for_function(f"() => document.querySelectorAll('#feed-runs tbody tr').length === {every}")
    runs = {(r["department"], r["code"]): r for r in demo.get("/datahub/feeds/runs", params={"limit": 100})}
    for feed in planted:
        row = f"#feed-runs tr[data-run='{runs[feed.department, feed.code]['id']}']"
        assert _cells(page, row, "conflicting") == f"{len(feed.conflicts):,}"
        assert _cells(page, row, "rejected") == f"{len(feed.rejections):,}"

    # the street office's run: its two rejected records with their lines and reasons
    street = next(f for f in planted if f.department == "street-office")
    page.click(f"[data-open='{runs['street-office', street.code]['id']}']")
    page.wait_for_selector("#feed-rejections tbody tr")
    lines = page.locator("#feed-rejections tbody tr td:first-child").all_inner_texts()
    assert [int(x) for x in lines] == list(street.rejections)
    assert "check digit" in page.inner_text("#feed-rejections")
    assert page.locator("#feed-run-conflicts tbody tr").count() == len(street.conflicts)

    # the city picks the source whose conflicts it reads: no one disagrees with civil affairs' own items
    assert SOURCE in page.locator("#conflict-source option").evaluate_all("(os) => os.map((o) => o.value)")
    page.select_option("#conflict-source", "civil-affairs")
    page.wait_for_selector("#conflict-list >> text=没有未解决的冲突。")

    page.click("#lang")
    page.wait_for_selector("#feed-title >> text=Feed runs")
    assert page.inner_text("#data-tabs [data-tab=feeds]") == "Feeds"
    page.click("#lang")


def test_the_sources_data_officer_sees_the_conflicts_on_its_items(
    page: Any, demo: Demo, planted: list[DemoFeed]
) -> None:
    log_in(page, demo, "police")
    page.goto(f"{demo.url}/#/data/feeds")
    page.wait_for_selector("#feed-runs tbody tr")
    assert page.locator("#feed-runs tbody tr").count() == 1  # a department sees its own runs

    wanted = {(f.department, key, ATTRIBUTE.get(item, item)) for f in planted for key, item in f.conflicts}
    page.wait_for_selector(f"#conflict-total >> text={len(wanted):,} 条未解决的冲突")
    per_department, per_item = Counter(d for d, _, _ in wanted), Counter(i for _, _, i in wanted)
    assert page.inner_text("button[data-filter=item][data-value=mobile]") == f"联系电话 {per_item['mobile']:,}"
    office = "button[data-filter=department][data-value=street-office]"
    assert page.inner_text(office) == f"街道办事处 {per_department['street-office']:,}"
    page.click(office)
    page.wait_for_selector(f"#conflict-total >> text={per_department['street-office']:,} 条未解决的冲突")
    rows = page.locator("#feed-conflicts tbody tr")
    assert rows.count() == min(50, per_department["street-office"])
    listed = {("street-office", rows.nth(n).get_attribute("data-record"), rows.nth(n).get_attribute("data-item"))
              for n in range(rows.count())}  # fmt: skip
    assert listed <= wanted
