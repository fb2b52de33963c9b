"""The Q&A assistant's routes over HTTP, on SQLite and PostgreSQL: asking needs no token and answers with the
passages cited and links that lead to the guides; a bad question is a problem document; asking is rate-limited
per address; a handover (转人工) is seen by the desk and the department it concerns, answered once, and read by
the asker with its id."""

from __future__ import annotations

import pytest
from conftest import Api

from cityos.auth import create_token


def test_anyone_asks_and_the_links_lead_to_the_guides(api: Api) -> None:
    r = api.post("/onestop/assistant/ask", token=None, json={"question": "我想开一家餐馆，要办哪些证？"})
    assert r.status_code == 200
    body = r.json()
    assert body["known"] and body["start"]["target"] == "bundle:restaurant"
    assert body["start"]["link"] == "/onestop/#/apply/restaurant"
    assert body["confidence"] >= body["threshold"]
    assert body["text"].startswith("建议办理「开办餐饮店一件事」。")
    for c in body["citations"]:
        page = api.get(c["guide"], token=None)
        assert page.status_code == 200 and c["title"] in page.text
        assert c["sectionName"] and c["text"][:20] in body["text"]
    assert api.get(body["start"]["guide"], token=None).status_code == 200


def test_an_unknown_question_offers_a_person(api: Api) -> None:
    body = api.post("/onestop/assistant/ask", token=None, json={"question": "护照过期了怎么换？"}).json()
    assert body["known"] is False and body["start"] is None and body["citations"] == []
    assert body["handover"] == "/onestop/assistant/handover"


@pytest.mark.parametrize(("body", "status"), [
    ({"question": ""}, 400),
    ({"question": "   "}, 400),
    ({"question": "问" * 201}, 400),
    ({"question": "问" * 2001}, 400),  # over what the wire takes
    ({"question": "开饭店", "extra": 1}, 400),
    ({}, 400),
])  # fmt: skip
def test_a_bad_question_is_a_problem_document(api: Api, body: dict[str, object], status: int) -> None:
    r = api.post("/onestop/assistant/ask", token=None, json=body)
    assert r.status_code == status
    problem = r.json()
    assert {"type", "title", "status", "detail"} <= problem.keys() and problem["status"] == status


def test_the_question_is_named_in_the_problem(api: Api) -> None:
    problem = api.post("/onestop/assistant/ask", token=None, json={"question": "问" * 250}).json()
    assert problem["type"].endswith("/invalid-question") and "200" in problem["detail"]


def test_a_large_body_is_refused_before_it_is_read(api: Api) -> None:
    r = api.post("/onestop/assistant/ask", token=None, content=b'{"question": "' + b"a" * 9000 + b'"}',
                 headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413 and r.json()["type"].endswith("/payload-too-large")


@pytest.mark.settings(rate_limit_public="3/minute")
def test_asking_is_rate_limited_per_address(api: Api) -> None:
    codes = [api.post("/onestop/assistant/ask", token=None, json={"question": "退休要办什么"}).status_code
             for _ in range(4)]  # fmt: skip
    assert codes == [200, 200, 200, 429]
    assert api.post("/onestop/assistant/handover", token=None, json={"question": "退休"}).status_code == 429


def test_a_handover_reaches_the_desk_and_the_department_and_is_answered(api: Api) -> None:
    r = api.post("/onestop/assistant/handover", token=None,
                 json={"question": "卖烟要办烟草许可吗", "channel": "portal", "contact": "13800138000"})  # fmt: skip
    assert r.status_code == 201
    created = r.json()
    assert created["state"] == "waiting" and "contact" not in created  # the asker's view: no staff fields
    assert api.get("/onestop/assistant/handovers", token=None).status_code == 401
    operator = create_token(api.rt.db, "desk-li", role="operator", kind="staff")
    queue = api.get("/onestop/assistant/handovers", token=operator).json()["handovers"]
    mine = next(h for h in queue if h["id"] == created["id"])
    assert mine["contact"] == "13800138000" and mine["nearest"] == "item:HP-YC-0001" and mine["department"] == "tobacco"
    tobacco = create_token(api.rt.db, "tobacco", role="department", kind="department")
    health = create_token(api.rt.db, "health", role="department", kind="department")
    own = api.get("/onestop/assistant/handovers", token=tobacco).json()["handovers"]
    assert [h["id"] for h in own] == [created["id"]]
    assert api.get("/onestop/assistant/handovers", token=health).json()["handovers"] == []
    url = f"/onestop/assistant/handovers/{created['id']}/answer"
    assert api.post(url, token=health, json={"answer": "x"}).status_code == 404  # not in its queue
    done = api.post(url, token=tobacco, json={"answer": "兼营卷烟的，需申领烟草专卖零售许可证。"})
    assert done.status_code == 200 and done.json()["answeredBy"] == "tobacco"
    again = api.post(url, token=operator, json={"answer": "再答"})
    assert again.status_code == 409 and again.json()["type"].endswith("/handover-answered")
    read = api.get(f"/onestop/assistant/handover/{created['id']}", token=None).json()
    assert read["state"] == "answered" and read["answer"] == "兼营卷烟的，需申领烟草专卖零售许可证。"
    answered = api.get("/onestop/assistant/handovers?state=answered", token=operator).json()["handovers"]
    assert [h["id"] for h in answered] == [created["id"]]
    assert api.get("/onestop/assistant/handover/nothing-here", token=None).status_code == 404
