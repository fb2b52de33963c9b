"""The one-stop portal's 办事, 办件详情 and 我的证照 pages in Chromium against ``cityos demo`` (issue 20 item 6), for
two bundles: 新生儿出生一件事 by a demo person (form, submission, a registry material fetched and confirmed, another
declined and uploaded, the birth certificate issued by a health clerk, downloaded and verified) and 开办餐饮店一件事
by a demo enterprise (the tobacco item applies, the signboard item is skipped, and so in the submission)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from chromium import Demo, running_demo

from cityos.auth.service import create_token
from cityos.core.identifiers import id_check_character
from cityos.demo.registries import entities
from cityos.store.engine import Database

pytestmark = [pytest.mark.interop, pytest.mark.browser]

OTHER_ID = "31010119800101123" + id_check_character("31010119800101123")
CLAIMS = {"childName": "刘小宝", "sex": "男", "birthDate": "2026-11-30", "birthPlace": "上海市黄浦区",
          "motherName": "刘芳", "certificateNumber": "P310000123"}  # fmt: skip
BIRTH = ".application[data-item='HP-WJ-0001']"  # the birth medical certificate's application
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, Path]]:
    where: Path = tmp_path_factory.mktemp("onestop-apply")
    with running_demo(where, "--sensors", "0") as d:
        yield d, where


@contextmanager
def logged_in(browser: Any, d: Demo, kind: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A phone-sized page of a demo person or enterprise, logged in on /onestop/login; page errors and requests
    for another host fail the test."""
    subjects = httpx.get(d.url + "/onestop/login/demo/subjects", timeout=60).json()["subjects"]  # 5 s: too short loaded
    who = next(s for s in subjects if s["kind"] == kind)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", accept_downloads=True)
    elsewhere: list[str] = []
    context.route(lambda url: not url.startswith(d.url + "/"), lambda route: (elsewhere.append(route.request.url),
                                                                               route.abort()))  # fmt: skip
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(d.url + "/onestop/login")
    page.click(f"#subjects button[data-subject='{who['key']}']")
    page.fill("#code", "123456")
    page.click("#login button[type=submit]")
    page.wait_for_url(d.url + "/onestop/")
    yield page, who
    context.close()
    assert not errors and not elsewhere, (errors, elsewhere)


def fill_form(page: Any, d: Demo, bundle: str, given: dict[str, Any]) -> None:
    """Open the bundle from the home's list, answer ``given`` first (they decide what is shown), then every shown
    question still empty with an answer of its type."""
    page.click(f"#bundles a[href='#/apply/{bundle}']")
    page.wait_for_selector("#items li[data-applies]")
    questions = httpx.get(f"{d.url}/onestop/bundles/{bundle}/form").json()["questions"]
    for _ in range(2):  # an answer may show a question after it: a second pass answers those
        for q in sorted(questions, key=lambda q: q["code"] not in given):
            sel, typed = f"#q-{q['code']}", q["type"]
            filled = typed != "multichoice" and q["code"] not in given and page.input_value(sel)
            if filled or not page.is_visible(sel):
                continue
            typical = {"boolean": False, "integer": int(q.get("min") or 1), "number": q.get("min") or 50,
                       "date": "2026-11-30", "id-card": OTHER_ID, "phone": "13800138000"}  # fmt: skip
            value = given.get(q["code"], typical.get(typed, "测试"))
            if typed == "boolean":
                page.select_option(sel, "true" if value else "false")
            elif typed == "choice":
                page.select_option(sel, q["options"][0]["value"])
            elif typed == "multichoice":
                page.check(f"input[name={q['code']}][value={q['options'][0]['value']}]")
            else:
                page.fill(sel, str(value))
        page.wait_for_selector("#apply-form[aria-busy=false]")  # the server checked the last answer


def submitted(page: Any, how: str) -> None:
    """Submit the form; the submission's page opens, or the test fails with the errors the form shows."""
    getattr(page, how)("#apply-form button[type=submit]")
    page.wait_for_selector("#overall, #apply-error:not(:empty)")
    assert page.locator("#overall").count() == 1, page.evaluate(
        "() => [...document.querySelectorAll('.question')].filter(q => q.querySelector('.error').textContent)"
        ".map(q => [q.dataset.question, q.hidden, q.querySelector('.error').textContent])"
    )


def test_a_newborn_from_the_form_to_a_verified_birth_certificate(browser: Any, demo: tuple[Demo, Path]) -> None:
    d, where = demo
    with logged_in(browser, d, "person") as (page, me):
        fill_form(page, d, "newborn", {"father_known": False, "baby_name": "刘小宝"})
        assert page.input_value("#q-mother_id_card") == me["key"]  # prefilled from the login
        assert not page.is_visible("#q-father_id_card")
        submitted(page, "dblclick")  # one Idempotency-Key per form: a double click makes one submission
        # 办理中, not 已提交: the vaccination certificate's rules decided its application at once (无人干预自动办理)
        assert page.inner_text("#overall") == "办理中"
        birth = page.locator(BIRTH)
        birth.locator("button[data-fetch='mother-id']").click()
        mother = birth.locator("li[data-material='mother-id']")
        page.wait_for_selector("li[data-material='mother-id'] :is(.preview dd, .error:not(:empty))")
        assert mother.locator(".preview dd").count(), mother.inner_text()
        assert me["name"] in birth.locator("li[data-material='mother-id'] .preview").inner_text()
        birth.locator("li[data-material='mother-id'] button[data-confirm]").click()
        page.wait_for_selector(f"{BIRTH} li[data-material='mother-id'][data-state=confirmed]")
        birth.locator("li[data-material='father-id'] button[data-decline]").click()
        birth.locator("input[data-upload='father-id']").set_input_files(
            files=[{"name": "father-id.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        page.wait_for_selector(f"{BIRTH} li[data-material='father-id'][data-state=uploaded]")
        assert "已确认调取" in birth.inner_text() and "father-id.pdf" in birth.inner_text()
        counts = birth.locator(".counts")
        assert (counts.get_attribute("data-fetched"), counts.get_attribute("data-uploaded")) == ("1", "1")
        app = birth.get_attribute("data-application")

        db = Database(f"sqlite:///{(where / 'var' / 'cityos.db').resolve()}")
        health = create_token(db, "health", role="department", kind="department")
        db.dispose()
        for action, body in (("receive", None), ("approve", None), ("issue-certificate", {"claims": CLAIMS})):
            r = httpx.post(f"{d.url}/onestop/applications/{app}/actions/{action}", json=body,
                           headers={"Authorization": f"Bearer {health}"})  # fmt: skip
            assert r.status_code == 200, r.text
        page.goto(d.url + "/onestop/")
        page.wait_for_selector("#wallet li[data-credential]")
        # the birth certificate beside the vaccination certificate the rules issued
        certificate = page.locator("#wallet li[data-credential]").filter(has_text="出生医学证明")
        assert certificate.count() == 1 and certificate.locator(".state").inner_text() == "有效"
        assert page.locator("#submissions li[data-submission]").count() == 1
        with page.expect_download() as saved:
            certificate.locator("button[data-download]").click()
        assert json.loads(Path(saved.value.path()).read_text())["credentialSubject"]["childName"] == "刘小宝"
        certificate.locator("button[data-verify]").click()
        page.wait_for_url(d.url + "/onestop/verify")
        page.wait_for_selector("#verdict.ok")
        assert page.inner_text("#verdict") == "核验通过"


def test_a_restaurant_with_tobacco_and_without_a_signboard(browser: Any, demo: tuple[Demo, Path]) -> None:
    d, where = demo
    # the demo's legal-entities registry is empty: market regulation's feed registers one enterprise
    db = Database(f"sqlite:///{(where / 'var' / 'cityos.db').resolve()}")
    market = create_token(db, "market-regulation", role="department", kind="department")
    db.dispose()
    items = ("creditCode", "name", "kind", "legalRepresentative", "domicile", "foundedOn")
    company = {k: entities(1)[0][k] for k in items}
    fed = httpx.post(f"{d.url}/datahub/feeds/HP-02-01-0001/records", json={"records": [company]},
                     headers={"Authorization": f"Bearer {market}"})  # fmt: skip
    assert fed.status_code == 200, fed.text
    with logged_in(browser, d, "enterprise") as (page, _me):
        fill_form(page, d, "restaurant", {"sells_tobacco": True, "has_outdoor_sign": False})
        page.wait_for_selector("#items li[data-item='HP-YC-0001'][data-applies=true]")
        assert "需办理" in page.inner_text("#items li[data-item='HP-YC-0001']")
        assert page.inner_text("#items li[data-item='HP-LH-0001'] .state") == "无需办理"
        submitted(page, "click")
        shown = page.locator(".application").evaluate_all("els => els.map(e => e.dataset.item)")
        assert sorted(shown) == ["HP-SJ-0001", "HP-SJ-0002", "HP-XF-0001", "HP-YC-0001"]
        assert page.inner_text("#overall") == "已提交"
        page.click("#lang")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        page.wait_for_selector("#overall:text('submitted')")
