"""Schemathesis over the whole OpenAPI document, against a live server (uvicorn on SQLite) with an admin
token: no answer is a server error, every status is one the document lists for the operation, and every
answer's media type is one it lists.

Each operation is a test of its own (``test_…[POST /cases]``); a failure names the check and gives a curl
command that repeats it. The run is bounded and repeatable: a few examples per operation (the examples,
coverage and fuzzing phases), derandomised with a fixed seed, without shrinking and without Hypothesis's
example database. The document is the app's own, made in this process when the module is collected (the
live server must serve the same one: the first test checks it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from conftest import LOCAL_RECEIVERS, answers_health
from schemathesis.config import SchemathesisConfig

from cityos.auth import create_token
from cityos.store.engine import Database

pytestmark = pytest.mark.interop  # drives a real uvicorn server

SEED = 16
MAX_EXAMPLES = 4  # per operation in the fuzzing phase; the coverage phase adds its own few
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance")
ROLES = ["admin"]  # every route allows an admin: the run reaches past the guards everywhere
LOGOUT = "POST /auth/logout"  # revokes the token it carries: it gets one of its own each time


def run_config() -> SchemathesisConfig:
    """The bounded, repeatable run (the settings of a schemathesis.toml)."""
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "no-shrink": True, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "max-stream-events": 1,  # the dashboard's live stream never ends: its first event is the answer
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            # Hypothesis's health checks are about the generator (too slow on a busy machine, too many values
            # filtered, too large), not about the API: they would only make the run flaky.
            "suppress-health-check": ["filter_too_much", "too_slow", "data_too_large", "large_base_example"],
        }
    )


def api_description() -> dict[str, Any]:
    """The app's OpenAPI document, made without a server or a database."""
    from cityos.app import create_app
    from cityos.bus.memory import MemoryBus
    from cityos.config import Settings
    from cityos.runtime import Runtime

    rt = Runtime(Settings(database_url="sqlite://"), Database("sqlite://"), MemoryBus())
    try:
        return create_app(runtime=rt).openapi()
    finally:
        rt.close()


DESCRIPTION = api_description()
schema = schemathesis.openapi.from_dict(DESCRIPTION, config=run_config())


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[str, Database]]:
    """A cityos server (``cityos serve``) on a SQLite database of its own: (its URL, its database)."""
    from brokers import free_port

    home = tmp_path_factory.mktemp("schemathesis")
    shutil.copyfile(sqlite_template, home / "cityos.db")
    db = Database(f"sqlite:///{home / 'cityos.db'}")
    env = dict(os.environ, CITYOS_DATABASE_URL=db.url, CITYOS_DATA_DIR=str(home))
    env["CITYOS_NOTIFY_ALLOWED_NETWORKS"] = LOCAL_RECEIVERS
    port = free_port()
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cityos.cli", "serve", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not answers_health(url, 120):  # a loaded machine can take a minute to start the app
            proc.kill()
            pytest.fail(f"server did not start: {(home / 'server.log').read_text()}")
        yield url, db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()
        db.dispose()


@pytest.fixture(scope="module")
def tokens(live: tuple[str, Database]) -> dict[str, str]:
    """A bearer token of each role the run calls the API with."""
    return {role: create_token(live[1], f"schemathesis-{role}", role=role, kind="staff") for role in ROLES}


def test_the_live_server_serves_this_description(live: tuple[str, Database]) -> None:
    # the server builds its document on the first ask: seconds on a loaded machine, past httpx's 5 s default
    assert httpx.get(f"{live[0]}/openapi.json", timeout=60).json() == DESCRIPTION


# The role is a parameter, which also gives each operation's test an id of its own (pytest 9 builds a test's
# id from its parameters; schemathesis names the operation in the test's name only).
@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
def test_the_api_answers_as_its_description_says(
    case: Any, role: str, live: tuple[str, Database], tokens: dict[str, str]
) -> None:
    token = create_token(live[1], "leaving", role="reader") if case.operation.label == LOGOUT else tokens[role]
    case.call_and_validate(base_url=live[0], headers={"Authorization": f"Bearer {token}"})
