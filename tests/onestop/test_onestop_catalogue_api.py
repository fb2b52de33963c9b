"""The service items', bundles' and forms' API and the service guide pages over HTTP, on SQLite and PostgreSQL:
reads need no token, publishing a version needs ``services:write``, the form check names the wrong fields, and
each guide page is Chinese first, offline (no other host) and links its JSON twin."""

from __future__ import annotations

import re
from typing import Any

from conftest import Api

from cityos.auth import create_token

FOOD = "HP-SJ-0002"


def _publish_body(api: Api, **change: Any) -> dict[str, Any]:
    current = api.get(f"/onestop/items/{FOOD}", token=None).json()
    keep = {k: current[k] for k in ("code", "name", "nameEn", "department", "applicantKinds", "legalBasis",
                                    "conditions", "materials", "legalLimitDays", "promisedLimitDays", "fee",
                                    "handling", "certificateType", "questions")}  # fmt: skip
    return {"item": {**keep, **change}, "reason": "承诺时限压缩", "expectedVersion": current["version"]}


def test_items_bundles_and_forms_are_public(api: Api) -> None:
    listed = api.get("/onestop/items", token=None)
    assert listed.status_code == 200
    assert FOOD in [i["code"] for i in listed.json()]
    food = api.get(f"/onestop/items/{FOOD}", token=None).json()
    assert food["departmentName"] == "区市场监管局" and food["legalLimitDays"] == 10
    assert food["legalBasis"][0] == "《中华人民共和国食品安全法》第三十五条"
    assert food["guide"] == f"/onestop/guide/{FOOD}"
    bundles = api.get("/onestop/bundles", token=None).json()
    assert [b["code"] for b in bundles] == ["newborn", "restaurant", "retirement", "enterprise-change", "home-resale"]
    restaurant = api.get("/onestop/bundles/restaurant", token=None).json()
    tobacco = next(i for i in restaurant["items"] if i["item"] == "HP-YC-0001")
    assert tobacco["appliesWhen"] == {"==": [{"var": "sells_tobacco"}, True]}
    form = api.get("/onestop/bundles/restaurant/form", token=None).json()
    codes = [q["code"] for q in form["questions"]]
    assert codes[:2] == ["has_outdoor_sign", "sells_tobacco"] and len(codes) == len(set(codes))
    assert api.get("/onestop/bundles/wedding", token=None).json()["type"].endswith("/bundle-not-found")
    assert api.get("/onestop/items/HP-NONE", token=None).status_code == 404


def test_the_form_check_answers_items_questions_and_field_errors(api: Api) -> None:
    r = api.post("/onestop/bundles/restaurant/form/check", token=None,
                 json={"answers": {"sells_tobacco": True, "has_outdoor_sign": False, "seats": "many"}})  # fmt: skip
    assert r.status_code == 200
    body = r.json()
    assert not body["valid"]
    assert "HP-YC-0001" in body["items"] and body["skipped"] == ["HP-LH-0001"]
    assert "school_distance" in body["questions"] and "sign_text" not in body["questions"]
    errors = {e["field"]: e["message"] for e in body["errors"]}
    assert errors["seats"] == "expected a number, found 'many'" and errors["business_name"] == "required"
    assert body["answers"] == {"sells_tobacco": True, "has_outdoor_sign": False}
    bad = api.post("/onestop/bundles/restaurant/form/check", token=None, json={"answers": []})
    assert bad.status_code == 400  # not an object of answers


def test_publishing_a_version_needs_services_write(api: Api) -> None:
    body = _publish_body(api, promisedLimitDays=2)
    assert api.post(f"/onestop/items/{FOOD}/versions", json=body, token=None).status_code == 401
    officer = create_token(api.rt.db, "market-regulation", role="department", kind="department")
    assert api.post(f"/onestop/items/{FOOD}/versions", json=body, token=officer).status_code == 403
    operator = create_token(api.rt.db, "ops-wang", role="operator", kind="staff")
    r = api.post(f"/onestop/items/{FOOD}/versions", json=body, token=operator)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and r.json()["publishedBy"] == "ops-wang"
    assert r.headers["Location"] == f"/onestop/items/{FOOD}?version=2"
    assert api.get(f"/onestop/items/{FOOD}", token=None).json()["promisedLimitDays"] == 2
    assert api.get(f"/onestop/items/{FOOD}", params={"version": 1}, token=None).json()["promisedLimitDays"] == 3
    stale = api.post(f"/onestop/items/{FOOD}/versions", json=body, token=operator)
    assert stale.status_code == 409 and stale.json()["type"].endswith("/service-item-version-conflict")
    wrong = api.post(f"/onestop/items/{FOOD}/versions", token=operator, json=_publish_body(api, department="nowhere"))
    assert wrong.status_code == 400 and "department 'nowhere'" in wrong.json()["detail"]
    versions = api.get(f"/onestop/items/{FOOD}/versions", token=None).json()
    assert [v["version"] for v in versions] == [1, 2]


def _offline(html: str) -> None:
    """Nothing on the page comes from another host."""
    assert not re.findall(r"""(?:src|href)=["'](?:https?:)?//""", html)


def test_the_guides_are_chinese_first_offline_and_link_their_twin(api: Api) -> None:
    page = api.get("/onestop/guide/bundles/restaurant", token=None)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="zh-CN">' in html and "开办餐饮店一件事" in html and 'lang="en"' in html
    assert "「是否兼营卷烟、雪茄烟零售」选择“是”时办理" in html  # the tobacco licence's condition, in words
    assert 'href="/onestop/bundles/restaurant"' in html and 'href="/static/fonts.css"' in html
    _offline(html)
    item = api.get(f"/onestop/guide/{FOOD}", token=None).text
    assert "《中华人民共和国食品安全法》第三十五条" in item and "10 个工作日" in item and "区市场监管局" in item
    assert "免于提交：调用电子证照「营业执照」" in item
    assert f'href="/onestop/items/{FOOD}"' in item
    _offline(item)
    index = api.get("/onestop/guide", token=None).text
    assert all(name in index for name in ("新生儿出生一件事", "退休一件事", "企业变更一件事"))
    assert api.get("/onestop/static/guide.css", token=None).headers["content-type"].startswith("text/css")
    assert api.get("/onestop/guide/HP-NONE", token=None).status_code == 404
    assert api.get("/onestop/static/nope.js", token=None).status_code == 404


def test_a_guide_escapes_what_it_shows(api: Api) -> None:
    operator = create_token(api.rt.db, "ops-wang", role="operator", kind="staff")
    body = _publish_body(api, conditions=["<script>alert(1)</script>"])
    assert api.post(f"/onestop/items/{FOOD}/versions", json=body, token=operator).status_code == 201
    html = api.get(f"/onestop/guide/{FOOD}", token=None).text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
