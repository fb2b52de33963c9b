"""Submissions resolved with the shipped catalogue the component installs: the merged form's answers are
checked (a 400 naming the field), the bundle's skip logic decides which items are applied for, and a citizen's
or an enterprise's login submits for itself only."""

from __future__ import annotations

from typing import Any

from conftest import Api
from onestop_samples import COMPANY, answers_for

from cityos.auth import Subject, sign_in_subject
from cityos.core.identifiers import credit_check_character


def _submit(api: Api, body: dict[str, Any], key: str, token: str | None = "") -> Any:
    return api.post("/onestop/submissions", json=body, headers={"Idempotency-Key": key}, token=token)


def test_the_restaurant_bundle_applies_for_the_items_its_answers_need(api: Api) -> None:
    answers = answers_for(api, "restaurant", {"has_outdoor_sign": False, "sells_tobacco": True})
    body = {"bundle": "restaurant", "answers": answers, "applicant": COMPANY, "applicantKind": "enterprise"}
    r = _submit(api, body, "r-1")
    assert r.status_code == 201, r.text
    items = [a["item"] for a in r.json()["applications"]]
    assert items == ["HP-SJ-0001", "HP-SJ-0002", "HP-XF-0001", "HP-YC-0001"]  # no signboard: 户外招牌 skipped
    wrong = _submit(api, {**body, "answers": {**answers, "sells_tobacco": "也许"}}, "r-2")
    assert wrong.status_code == 400 and "sells_tobacco" in wrong.text
    assert _submit(api, {**body, "bundle": "no-such-bundle"}, "r-3").status_code == 404


def test_an_enterprise_login_submits_for_itself_only(api: Api) -> None:
    subject = Subject("enterprise", COMPANY, f"urn:ngsi-ld:Organization:{COMPANY}")
    token, _, _ = sign_in_subject(api.rt.db, f"enterprise:{COMPANY}", subject, tenant="default")
    answers = answers_for(api, "restaurant", {"has_outdoor_sign": True, "sells_tobacco": False})
    mine = _submit(api, {"bundle": "restaurant", "answers": answers}, "e-1", token=token)
    assert mine.status_code == 201, mine.text
    assert "HP-LH-0001" in [a["item"] for a in mine.json()["applications"]]
    other = "91310101MA1FPX456" + credit_check_character("91310101MA1FPX456")
    body = {"bundle": "restaurant", "answers": answers, "applicant": other, "applicantKind": "enterprise"}
    assert _submit(api, body, "e-2", token=token).status_code == 403
    sid = mine.json()["id"]
    assert api.get(f"/onestop/submissions/{sid}", token=token).status_code == 200
