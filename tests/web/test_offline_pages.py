"""The pages on a machine cut off from every other site and without Chinese fonts: the dashboard draws its
Chinese in the typeface cityos serves (Noto Sans SC from npm), and the API documentation (Swagger UI at
``/docs``, ReDoc at ``/redoc``) lists the operations from this server's files alone.

Every request for another host is aborted and recorded, and a test fails if a page tried one. Which font drew a
text is asked of Chromium itself (DevTools' ``CSS.getPlatformFontsForNode``): a character no font has is drawn
as a box by some system font, which is not the served face, so the check holds on a machine with Chinese fonts
too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chromium import Demo, log_in, running_demo, watched_page

pytestmark = [pytest.mark.interop, pytest.mark.browser]

FACE = "Noto Sans SC"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo"), "--sensors", "200", "--rate", "50") as d:
        yield d


class Offline:
    """A watched page whose requests for any host but the demo's are aborted, and recorded."""

    def __init__(self, page: Any, demo: Demo) -> None:
        self.page, self.demo = page, demo
        self.elsewhere: list[str] = []
        page.context.route(lambda url: not url.startswith(demo.url + "/"), self._abort)
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("DOM.enable")
        self.cdp.send("CSS.enable")

    def _abort(self, route: Any) -> None:
        self.elsewhere.append(route.request.url)
        route.abort()

    def fonts_of(self, selector: str) -> list[dict[str, Any]]:
        """The fonts Chromium drew the text of the first element matching ``selector`` with, after the page's
        fonts loaded: family, whether a web font, and how many glyphs each drew."""
        self.page.evaluate("document.fonts.ready.then(() => true)")
        root = self.cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = self.cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"no {selector} on the page"
        return list(self.cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"])

    def assert_drawn_in_the_face(self, selector: str) -> str:
        """The element's text has Chinese, and every glyph of it came from the served face; its text."""
        text = str(self.page.inner_text(selector))
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), f"{selector}: no Chinese in {text!r}"
        fonts = self.fonts_of(selector)
        assert fonts and all(f["isCustomFont"] and f["familyName"].startswith(FACE) for f in fonts), (
            f"{selector} ({text!r}) was drawn with {fonts}"
        )
        return text

    def has_the_face_for(self, text: str) -> bool:
        """Whether the page's fonts hold the served face for every character of ``text``, loaded."""
        return bool(self.page.evaluate('([face, text]) => document.fonts.check(`16px "${face}"`, text)', [FACE, text]))


@pytest.fixture
def offline(browser: Any, demo: Demo) -> Iterator[Offline]:
    with watched_page(browser) as pg:
        off = Offline(pg, demo)
        yield off
        assert off.elsewhere == [], f"the page asked other sites for {off.elsewhere}"


def test_the_dashboard_draws_its_chinese_in_the_served_typeface(offline: Offline, demo: Demo) -> None:
    page = offline.page
    page.goto(demo.url + "/")
    page.wait_for_selector("#login", state="visible")
    assert offline.assert_drawn_in_the_face("#login h2")
    log_in(page, demo, "duty")
    page.wait_for_selector("#vitals .ind .name")
    page.wait_for_selector("#case-tabs [role=tab]")
    for selector in ["h1 [data-i18n=title]", "#vitals .category h3 span", "#vitals .ind .name", "#vitals .level"]:
        offline.assert_drawn_in_the_face(selector)
    assert offline.has_the_face_for("数据资源 城市运行体征")
    # the face came from this server, cut by unicode-range: the page fetched slices of it, not the whole
    loaded = page.evaluate(
        """() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.woff2'))"""
    )
    assert loaded and all(n.startswith(demo.url + "/static/vendor/noto-sans-sc/files/") for n in loaded)
    assert len(loaded) < 100 * 2  # fewer than the face's files for its two weights

    page.goto(demo.url + "/#/unit/urn:ngsi-ld:ManagementUnit:waitan")
    page.wait_for_selector("#twin-title")
    assert offline.assert_drawn_in_the_face("#twin-title") == "外滩"


def test_swagger_ui_lists_the_operations_from_this_server(offline: Offline, demo: Demo) -> None:
    page = offline.page
    page.goto(demo.url + "/docs")
    page.wait_for_selector(".opblock-summary-path[data-path='/ngsi-ld/v1/entities']")
    assert page.locator(".opblock-summary-path[data-path='/ngsi-ld/v1/entities']").count() == 3  # create, query, purge
    # Swagger UI draws only the operations near the viewport: scroll through, collect every one drawn, and check
    # the Chinese summary of one of them when it comes into view
    what_if = ".opblock-summary-path[data-path='/twin/units/{unit_id}/whatif'] + .opblock-summary-description"
    seen: set[str] = set()
    drawn = ""
    for _ in range(300):
        seen |= set(page.locator(".opblock-summary-path").evaluate_all("(xs) => xs.map((x) => x.dataset.path)"))
        if not drawn and page.locator(what_if).count():
            drawn = offline.assert_drawn_in_the_face(what_if)
        if page.evaluate("() => window.scrollY + window.innerHeight >= document.body.scrollHeight - 2"):
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(50)
    assert len(seen) >= 80, sorted(seen)  # paths, each with one or more operations
    assert "模拟推演" in drawn


def test_redoc_lists_the_operations_and_searches_them_from_this_server(offline: Offline, demo: Demo) -> None:
    page = offline.page
    page.goto(demo.url + "/redoc")
    page.wait_for_selector("h2 >> text=Query entities")
    assert page.locator("[data-section-id^='tag/NGSI-LD']").count() >= 4
    what_if = "[data-section-id='operation/what_if_twin_units__unit_id__whatif_post'] h2"
    assert "模拟推演" in offline.assert_drawn_in_the_face(what_if)
    # the search runs in a worker, which /redoc's policy lets ReDoc's own script make from a blob
    page.fill("[role=search] input", "temporal")
    found = page.locator("[data-role='search:results'] li [type=get] + span")
    found.first.wait_for()
    assert "Retrieve the temporal evolution of an entity" in found.all_inner_texts()
