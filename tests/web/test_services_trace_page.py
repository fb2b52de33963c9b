"""The clerk's page of an application its item's rules left undecided (无人干预自动办理), in a real browser against
``cityos demo``: the queue says 转人工审核, and the application shows each rule, whether it held and the facts it
read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import PASSWORD, Demo, log_in, running_demo

from cityos.auth.service import create_account
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.onestop import applications as apps
from cityos.onestop import deciding
from cityos.onestop.items import item
from cityos.runtime import Runtime
from cityos.store.engine import Database

pytestmark = [pytest.mark.interop, pytest.mark.browser]
COMPANY = "91310101MA1FPX1234"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, str]]:
    where: Path = tmp_path_factory.mktemp("trace-demo")
    with running_demo(where, "--sensors", "0") as d:
        db = Database(f"sqlite:///{(where / 'var' / 'cityos.db').resolve()}")
        create_account(db, "market", role="department", password=PASSWORD, department="market-regulation")
        rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
        it = item(rt, "HP-SJ-0003")  # a change of domicile, no business licence confirmed yet: undecided
        answers = {"credit_code": COMPANY, "change_kinds": ["domicile"], "new_domicile": "上海市黄浦区南京东路100号"}
        done = apps.submit(rt, "default", apps.Applicant("enterprise", COMPANY), it, [it], answers, "trace-1")
        deciding.decide_submission(rt, "default", done.submission)
        rt.bus.close()
        db.dispose()
        yield d, done.submission.applications[0].id


def test_a_clerk_reads_the_rule_trace_of_an_undecided_application(page: Any, demo: tuple[Demo, str]) -> None:
    d, app = demo
    log_in(page, d, "market")
    page.click("nav.views a[href='#/services/queue']")
    page.wait_for_selector(f"#svc-queue tr[data-application='{app}']")
    assert page.inner_text(f"#svc-queue tr[data-application='{app}'] .svc-decision") == "转人工审核"
    page.click(f"#svc-queue tr[data-application='{app}'] a")
    page.wait_for_selector("#svc-trace tbody tr")
    held = {page.locator("#svc-trace tbody tr").nth(i).get_attribute("data-rule"):
            page.locator("#svc-trace tbody tr").nth(i).get_attribute("data-holds") for i in range(3)}  # fmt: skip
    assert held == {"same-domicile": "false", "domicile-only": "true", "licence-confirmed": "false"}
    assert "营业执照已核验" in page.inner_text("#svc-trace") and "answers.change_kinds" in page.inner_text("#svc-trace")
