"""A bundle's service guide (办事指南) in a real browser against ``cityos demo``: no login, the Chinese read as a
person sees it, drawn in the typeface cityos serves, and nothing asked of another host; on a phone's width the
item table still shows every item."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import Demo, running_demo, watched_page

pytestmark = [pytest.mark.interop, pytest.mark.browser]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    where: Path = tmp_path_factory.mktemp("onestop-demo")
    with running_demo(where, "--sensors", "0") as d:
        yield d


def test_a_visitor_reads_the_restaurant_bundle_guide(demo: Demo, browser: Any) -> None:
    with watched_page(browser) as page:
        elsewhere: list[str] = []
        page.context.route(lambda url: not url.startswith(demo.url + "/"),
                           lambda route: (elsewhere.append(route.request.url), route.abort()))  # fmt: skip
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        page.goto(demo.url + "/onestop/guide")
        page.click("text=开办餐饮店一件事")
        page.wait_for_url("**/onestop/guide/bundles/restaurant")
        assert page.inner_text("h1 .zh") == "开办餐饮店一件事"
        assert page.inner_text("h1 .en") == "Opening a restaurant"
        rows = page.locator("section:has(h2:has-text('包含事项')) tbody tr")
        assert rows.count() == 5
        texts = [rows.nth(i).inner_text() for i in range(5)]
        assert texts[4].startswith("烟草专卖零售许可证核发")
        assert "「是否兼营卷烟、雪茄烟零售」选择“是”时办理" in texts[4]
        assert page.locator("text=区市场监管局").first.is_visible()
        page.evaluate("() => document.fonts.ready.then(() => document.fonts.status)")
        assert page.evaluate("() => document.fonts.check('16px \"Noto Sans SC\"', '开办餐饮店')")
        family: Any = page.evaluate("() => getComputedStyle(document.body).fontFamily")
        assert family.startswith('"Noto Sans SC"')
        page.click("text=烟草专卖零售许可证核发")
        page.wait_for_url("**/onestop/guide/HP-YC-0001")
        assert "《中华人民共和国烟草专卖法》第十六条" in page.inner_text("main")
        page.click("footer >> text=JSON")
        assert '"code":"HP-YC-0001"' in page.content()
        assert elsewhere == []
