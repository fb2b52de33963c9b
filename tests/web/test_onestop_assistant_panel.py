"""The Q&A assistant's chat panel (智能客服) in a real browser against ``cityos demo``, on a phone's screen: on a
service guide, a visitor asks in Chinese and reads the answer with the guide passages it cites and where to
start; a question no guide answers is refused with an offer of a person, and the handover lands in the desk's
queue. On the portal, a logged-in person follows the answer's start into the bundle's application. No request
leaves the demo's host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chromium import Demo, running_demo, watched_page

pytestmark = [pytest.mark.interop, pytest.mark.browser]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("assistant-demo"), "--sensors", "0") as d:
        yield d


def _offline(page: Any, demo: Demo) -> list[str]:
    elsewhere: list[str] = []
    page.context.route(lambda url: not url.startswith(demo.url + "/"),
                       lambda route: (elsewhere.append(route.request.url), route.abort()))  # fmt: skip
    return elsewhere


def _ask(page: Any, question: str) -> Any:
    answers = page.locator("#assistant .asst-bot")
    before = answers.count()
    page.fill("#asst-q", question)
    page.click("#assistant .asst-form button[type=submit]")
    page.wait_for_function(f"() => document.querySelectorAll('#assistant .asst-bot').length > {before}")
    return answers.nth(before)


def test_a_visitor_asks_on_a_guide_and_is_handed_over_when_it_does_not_know(demo: Demo, browser: Any) -> None:
    with watched_page(browser) as page:
        elsewhere = _offline(page, demo)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(demo.url + "/onestop/guide/bundles/retirement")
        page.click("#assistant .asst-open")
        assert page.is_visible("#asst-q")
        answer = _ask(page, "孩子刚出生，要办哪些手续？")
        assert answer.inner_text().startswith("建议办理「新生儿出生一件事」。")
        assert answer.locator("a.asst-start").get_attribute("href") == "/onestop/#/apply/newborn"
        answer.locator("summary").click()
        cited = answer.locator("details a").first
        assert cited.get_attribute("href") == "/onestop/guide/bundles/newborn"
        assert "新生儿出生一件事" in cited.inner_text()

        refused = _ask(page, "护照过期了怎么换？")
        assert "不知道" in refused.inner_text()
        refused.locator("input[name=contact]").fill("13800138000")
        refused.locator("button", has_text="转人工").click()
        page.wait_for_selector("#assistant .asst-id")
        handover = page.inner_text("#assistant .asst-id")
        queue = demo.get("/onestop/assistant/handovers")["handovers"]
        mine = next(h for h in queue if h["id"] == handover)
        assert mine["question"] == "护照过期了怎么换？" and mine["channel"] == "guide"
        assert mine["contact"] == "13800138000"
        assert elsewhere == []


def test_a_person_on_the_portal_follows_the_answer_into_the_application(demo: Demo, browser: Any) -> None:
    person = next(s for s in httpx.get(demo.url + "/onestop/login/demo/subjects").json()["subjects"]
                  if s["kind"] == "person")  # fmt: skip
    with watched_page(browser) as page:
        elsewhere = _offline(page, demo)
        page.goto(demo.url + "/onestop/login")
        page.wait_for_selector(f"#subjects button[data-subject='{person['key']}']")
        page.click(f"#subjects button[data-subject='{person['key']}']")
        page.fill("#code", "123456")
        page.click("#login button[type=submit]")
        page.wait_for_url(demo.url + "/onestop/")
        page.click("#assistant .asst-open")
        answer = _ask(page, "退休要办哪些手续？")
        assert "退休一件事" in answer.inner_text()
        answer.locator("a.asst-start").click()
        page.wait_for_url(demo.url + "/onestop/#/apply/retirement")
        page.wait_for_selector("#view:not([hidden])")
        page.click("#lang")  # the portal's language button switches the panel too
        page.wait_for_function("() => document.querySelector('#assistant .asst-open').textContent === 'Ask'")
        assert elsewhere == []
