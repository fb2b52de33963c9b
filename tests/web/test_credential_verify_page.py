"""The public e-certificate verify page (电子证照核验) in a real browser, against ``cityos serve``: a valid
credential pasted shows every check passed; the same credential with one character of its subject changed
shows the signature check failed with its reason, zh-CN first; no token, no outside host."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from brokers import free_port
from chromium import watched_page
from conftest import LOCAL_RECEIVERS, answers_health

from cityos.auth.service import create_token
from cityos.store.engine import Database

pytestmark = [pytest.mark.interop, pytest.mark.browser]
PERMIT = {
    "operatorName": "上海黄浦示例餐饮有限公司",
    "creditCode": "91310101MA1FPX1234",
    "permitNumber": "JY13101010001",
    "premises": "上海市黄浦区示例路1号",
    "businessItems": "热食类食品制售",
}


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """A cityos server with one food business permit issued: (its URL, the signed credential)."""
    home = tmp_path_factory.mktemp("vc-page")
    shutil.copyfile(sqlite_template, home / "cityos.db")
    db = Database(f"sqlite:///{home / 'cityos.db'}")
    admin = create_token(db, "vc-page-admin", role="admin", kind="staff")
    db.dispose()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, CITYOS_DATABASE_URL=f"sqlite:///{home / 'cityos.db'}", CITYOS_DATA_DIR=str(home),
               CITYOS_SEAL_SECRET="a-page-test-seal-secret", CITYOS_CREDENTIAL_BASE_URL=url,
               CITYOS_NOTIFY_ALLOWED_NETWORKS=LOCAL_RECEIVERS)  # fmt: skip
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "cityos.cli", "serve", "--port", str(port)], env=env, cwd=home,
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        if not answers_health(url, 120):
            pytest.fail(f"server did not start: {(home / 'server.log').read_text()}")
        body = {"certificateType": "FoodBusinessPermit", "creditCode": "91310101MA1FPX1234", "claims": PERMIT}
        r = httpx.post(f"{url}/onestop/credentials", json=body, headers={"Authorization": f"Bearer {admin}"},
                       timeout=30)  # fmt: skip
        assert r.status_code == 201, r.text
        yield url, r.json()["credential"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _verify(page: Any, url: str, credential: dict[str, Any]) -> None:
    page.goto(url + "/onestop/verify")
    assert page.inner_text("h1") == "电子证照核验"
    page.fill("#credential", json.dumps(credential, ensure_ascii=False))
    page.click("#go")
    page.wait_for_selector("#checks li")


def test_a_valid_credential_passes_every_check(issued: tuple[str, dict[str, Any]], browser: Any) -> None:
    url, credential = issued
    with watched_page(browser) as page:
        _verify(page, url, credential)
        assert page.inner_text("#verdict") == "核验通过"
        assert page.locator("#checks li.ok").count() == 4 and page.locator("#checks li.bad").count() == 0
        assert "有效" in page.inner_text("#facts")
        page.click("#lang")
        assert page.inner_text("#verdict") == "Verified"


def test_a_tampered_credential_shows_the_failed_signature_and_why(issued: tuple[str, dict[str, Any]],
                                                                   browser: Any) -> None:  # fmt: skip
    url, credential = issued
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["premises"] = "上海市黄浦区示例路2号"  # one character of the subject
    with watched_page(browser) as page:
        _verify(page, url, tampered)
        assert page.inner_text("#verdict") == "核验未通过"
        failed = page.locator("#checks li.bad")
        assert failed.count() == 1 and failed.get_attribute("data-check") == "signature"
        assert "签名无效" in failed.inner_text()
