"""The e-certificate routes over HTTP: what a verifier needs is public (seals, status lists, types, schemas,
context, verify and its page); issuing, wallets, downloads and status changes are guarded, and a department
sees and changes only what it issued."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import Api

from cityos.auth.service import create_token

SECRET = "a-test-seal-secret-of-some-length"
ENTERPRISE = "urn:ngsi-ld:Organization:91310101MA1FPX1234"
PERMIT = {
    "operatorName": "上海黄浦示例餐饮有限公司",
    "creditCode": "91310101MA1FPX1234",
    "permitNumber": "JY13101010001",
    "premises": "上海市黄浦区示例路1号",
    "businessItems": "热食类食品制售",
}
pytestmark = pytest.mark.settings(seal_secret=SECRET)


def _officer(api: Api, department: str) -> str:
    return create_token(api.rt.db, department, role="department", kind="department")


def _issue(api: Api, token: str | None = "") -> dict[str, Any]:
    r = api.post("/onestop/credentials", token=token,
                 json={"certificateType": "FoodBusinessPermit", "holder": ENTERPRISE, "claims": PERMIT})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_a_department_issues_and_the_holder_downloads_and_anyone_verifies(api: Api) -> None:
    officer = _officer(api, "market-regulation")
    issued = _issue(api, officer)
    assert issued["issuer"] == "market-regulation" and issued["state"] == "active"
    wallet = api.get("/onestop/wallet", params={"holder": ENTERPRISE}).json()  # an operator's ?holder=
    assert [c["id"] for c in wallet] == [issued["id"]]
    down = api.get(f"/onestop/credentials/{issued['id']}")
    assert down.status_code == 200 and down.headers["content-type"].startswith("application/vc+ld+json")
    assert 'filename="FoodBusinessPermit-' in down.headers["content-disposition"]
    credential = down.json()
    assert credential == issued["credential"]

    seals = api.get("/onestop/seals", token=None).json()
    assert [s["department"] for s in seals] == ["market-regulation"]
    assert credential["issuer"]["id"] == seals[0]["id"]
    status_url = credential["credentialStatus"][0]["statusListCredential"]
    listed = api.get(status_url.removeprefix("http://127.0.0.1:8000"), token=None)
    assert listed.status_code == 200 and listed.json()["type"][1] == "BitstringStatusListCredential"
    schema = api.get(credential["credentialSchema"]["id"].removeprefix("http://127.0.0.1:8000"), token=None).json()
    assert "permitNumber" in schema["properties"]["credentialSubject"]["required"]
    assert api.get("/onestop/contexts/certificates.jsonld", token=None).status_code == 200
    types = api.get("/onestop/certificate-types", token=None).json()
    assert {"营业执照", "食品经营许可证", "出生医学证明", "不动产权证书"} <= {t["catalogueName"] for t in types}

    good = api.post("/onestop/verify", token=None, json=credential).json()
    assert good["ok"] and good["status"] == "active" and good["office"] == "market-regulation"
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["premises"] = "上海市黄浦区示例路2号"
    bad = api.post("/onestop/verify", token=None, json=tampered).json()
    assert not bad["ok"]
    signature = next(c for c in bad["checks"] if c["name"] == "signature")
    assert not signature["ok"] and signature["reasonZh"] and signature["reasonEn"]


def test_the_issuing_office_revokes_and_verify_reports_it(api: Api) -> None:
    officer = _officer(api, "market-regulation")
    issued = _issue(api, officer)
    other = _officer(api, "tobacco")
    path = f"/onestop/credentials/{issued['id']}/status"
    assert api.post(path, token=other, json={"action": "revoke"}).status_code == 404  # not its to see
    assert api.get(f"/onestop/credentials/{issued['id']}", token=other).status_code == 404
    assert api.get("/onestop/wallet", token=other, params={"holder": ENTERPRISE}).json() == []
    r = api.post(path, token=officer, json={"action": "revoke", "reason": "违法经营"})
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    again = api.post(path, token=officer, json={"action": "reinstate"})
    assert again.status_code == 409 and again.json()["type"].endswith("credential-status-refused")
    found = api.post("/onestop/verify", token=None, json=issued["credential"]).json()
    assert found["status"] == "revoked" and not found["ok"]


def test_guarded_routes_need_a_token_and_bad_input_is_a_problem(api: Api) -> None:
    assert api.post("/onestop/credentials", token=None, json={}).status_code == 401
    assert api.get("/onestop/wallet", token=None, params={"holder": ENTERPRISE}).status_code == 401
    assert api.get("/onestop/credentials/urn:uuid:x", token=None).status_code == 401
    missing = api.post("/onestop/credentials", json={"certificateType": "FoodBusinessPermit", "holder": ENTERPRISE,
                                                     "claims": {**PERMIT, "permitNumber": 7}})  # fmt: skip
    assert missing.status_code == 400 and missing.json()["field"] == "claims.permitNumber"
    assert api.get("/onestop/status/nobody/revocation", token=None).status_code == 404
    assert api.get("/onestop/status/nobody/other", token=None).status_code in (400, 422)
    page = api.get("/onestop/verify", token=None)
    assert page.status_code == 200 and "电子证照核验" in page.text
    assert api.get("/onestop/static/verify.js", token=None).status_code == 200
