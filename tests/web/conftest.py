"""What the browser tests share: one Chromium per test process for the whole package (each test opens a
context of its own, so nothing but the process is shared), a watched page per test, and the ``demo`` most
modules start: ``cityos demo`` without sensors, with the staff accounts the module's ``ACCOUNTS`` lists.

A module with a demo of its own (sensors, feeds, planted data) defines its own ``demo`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chromium import PASSWORD, Demo, chromium, running_demo, watched_page

from cityos.auth.service import create_account, ensure_tenant
from cityos.store.engine import Database


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's Chromium, started once for the package's tests (a launch costs seconds on a loaded machine)."""
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page of a fresh context; the test fails if the page raised or logged an error."""
    with watched_page(browser) as pg:
        yield pg


@pytest.fixture(scope="module")
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``cityos demo --sensors 0`` for one module, with ``duty`` and ``police`` and the accounts of the module's
    ``ACCOUNTS`` (keyword arguments of ``create_account``; a ``tenant`` named there is created first), all with
    :data:`chromium.PASSWORD`. One demo per module: the modules' tests count what they did (audit records,
    quality runs), so they do not share one."""
    where = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    with running_demo(where, "--sensors", "0") as d:
        db = Database(f"sqlite:///{(where / 'var' / 'cityos.db').resolve()}")
        for account in getattr(request.module, "ACCOUNTS", ()):
            if account.get("tenant"):
                ensure_tenant(db, account["tenant"])
            create_account(db, **account, password=PASSWORD)
        db.dispose()
        yield d
