"""Shared fixtures. Storage tests run on SQLite and on a throwaway database of the local PostgreSQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import pytest
from decision_rules_plugin import pytest_collect_file  # noqa: F401  (the decision rules' YAML tests, a plugin)
from sqlalchemy import text

from cityos.runtime import Runtime
from cityos.store.engine import Database, null_pool_engine

pytest_plugins = ["group_scheduler"]  # the groups below kept on one xdist worker

R = TypeVar("R")
# the tests' notification receivers and brokers listen on loopback: the tests' cityos may notify them
LOCAL_RECEIVERS = "127.0.0.0/8,::1/128"
T = TypeVar("T")
PG_ADMIN_URL = os.environ.get("CITYOS_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


# What a fixture starts beyond SQLite, as the marker of every test that uses it (pyproject.toml lists the
# markers; `make test-fast` leaves out the tests marked postgres, mqtt, nats, browser or interop). Fixtures
# of one module are marked there, with the module's pytestmark.
FIXTURE_MARKS = {"cityos_server": "interop", "module_server": "interop"}


# `make test` runs two pytest-xdist workers with --dist loadgroup. Tests of one group run on one worker, one
# after another: those on the one local Mosquitto (an ingest there takes in whatever another test publishes;
# not those marked `mqtt(broker="own")`, which start a Mosquitto of their own on a free port),
# and those of a module with module-scoped fixtures (a demo server, a browser, a trained classifier: split over
# two workers, they would start twice). Everything else (databases, NATS streams, ports) is unique per test or
# per worker. A test marked with an xdist_group of its own keeps it. group_scheduler.py carries the groups to
# xdist's controller (xdist's own way, through the node id, no longer works with pytest 9).
SHARED_BROKER_GROUP = "mosquitto"


def _uses_module_fixtures(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    return any(d.scope in ("module", "package") for chain in defs for d in chain)


def _xdist_group(item: pytest.Item) -> str | None:
    if item.get_closest_marker("xdist_group"):
        return None
    mqtt = item.get_closest_marker("mqtt")
    if mqtt and mqtt.kwargs.get("broker") != "own":  # a Mosquitto of the test's own is nobody else's
        return SHARED_BROKER_GROUP
    if _uses_module_fixtures(item):
        return item.nodeid.split("::", 1)[0]
    return None


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker, and before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, mark in FIXTURE_MARKS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(mark)
        group = _xdist_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    admin = null_pool_engine(PG_ADMIN_URL)
    name = f"cityos_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the suite promises PostgreSQL: fail loudly, never skip
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}. Start it (see .ci/run).")
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_HEAD: dict[str, str] = {}


def _head_revision(db: Database) -> str:
    """The newest migration, read from the migration scripts once per test process."""
    if "head" not in _HEAD:
        from alembic.script import ScriptDirectory

        from cityos.store.migrate import alembic_config

        _HEAD["head"] = str(ScriptDirectory.from_config(alembic_config(db)).get_current_head())
    return _HEAD["head"]


_AT_HEAD: set[str] = set()  # the databases this process has seen at the newest migration


def _reset(db: Database) -> None:
    """Migrate a database opened anew and empty every table (what it keeps in memory is new with it)."""
    from cityos.components import load_tables
    from cityos.store.migrate import current, upgrade

    # Reading the scripts costs up to a second on a loaded machine, and the databases here are copies of a
    # migrated template or the run's PostgreSQL database: upgrade only one that is not at the newest already,
    # and ask each database once (no test migrates one back)
    if db.url not in _AT_HEAD:
        if current(db) != _head_revision(db):
            upgrade(db)
        _AT_HEAD.add(db.url)
    tables = [db.engine.dialect.identifier_preparer.format_table(t) for t in reversed(load_tables().sorted_tables)]
    with db.begin() as conn:
        if db.is_sqlite:
            for table in tables:
                conn.exec_driver_sql(f"DELETE FROM {table}")
        else:  # one round trip for the 75 tables, not one each (a test's set-up spent 0.3 s on them)
            conn.connection.driver_connection.execute("; ".join(f"DELETE FROM {table}" for table in tables))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once for the run: each test's SQLite database begins as a copy of it."""
    path = tmp_path_factory.mktemp("template") / "cityos.db"
    database = Database(f"sqlite:///{path}")
    _reset(database)
    database.dispose()  # the last connection closed: everything is in the one file
    return path


def _sqlite(tmp_path_factory: pytest.TempPathFactory, template: Path) -> Database:
    """A copy of the migrated, empty template: nothing to migrate or empty."""
    path = tmp_path_factory.mktemp("db") / "cityos.db"
    shutil.copyfile(template, path)
    return Database(f"sqlite:///{path}")


DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """A migrated, empty database of the kind ``request.param`` names."""
    if request.param == "sqlite":
        return _sqlite(tmp_path_factory, request.getfixturevalue("sqlite_template"))
    database = Database(request.getfixturevalue("pg_database_url"))
    _reset(database)
    return database


@pytest.fixture(params=DATABASES)
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated, empty database: once on SQLite, once on PostgreSQL."""
    database = _database(request, tmp_path_factory)
    yield database
    database.dispose()


@pytest.fixture(scope="module", params=DATABASES)
def module_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated, empty database for the tests of one module, which share what is in it (a server over it):
    once on SQLite, once on PostgreSQL. The module's tests run one after another on one worker (its group), so
    no other test empties the worker's PostgreSQL database under them."""
    database = _database(request, tmp_path_factory)
    yield database
    database.dispose()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    """A Mosquitto of the test's own, from the machine's binary (``brokers.own_mosquitto``): its port."""
    from brokers import own_mosquitto

    with own_mosquitto(tmp_path) as port:
        yield port


@pytest.fixture
def sqlite_db(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Database]:
    """A migrated SQLite database, for tests that are not about storage."""
    database = _sqlite(tmp_path_factory, sqlite_template)
    yield database
    database.dispose()


@pytest.fixture
def rt(db: Database, request: pytest.FixtureRequest) -> Iterator[Runtime]:
    """A runtime over the parametrised database, with the in-process bus.

    ``@pytest.mark.settings(name=value)`` overrides settings for one test.
    """
    from cityos.bus.memory import MemoryBus
    from cityos.config import Settings

    marker = request.node.get_closest_marker("settings")
    overrides = marker.kwargs if marker else {}
    # the plans role writes its figures entity and indicators into the default tenant: a test that wants it asks
    settings = {
        "max_limit": 100,
        "notify_allowed_networks": LOCAL_RECEIVERS,
        "roles": "ingest,vitals,cases,notify,onestop",
        **overrides,
    }
    runtime = Runtime(Settings(database_url=db.url, **settings), db, MemoryBus())
    yield runtime
    runtime.bus.close()


class Api:
    """An httpx client bound to the app in-process, with an admin token unless told otherwise."""

    def __init__(self, client: httpx.Client, token: str, rt: Runtime | None = None) -> None:
        self.client, self.token = client, token
        self._rt = rt

    @property
    def rt(self) -> Runtime:
        """The runtime the app serves."""
        return self._rt or self.client.app.state.runtime  # type: ignore[attr-defined]

    def request(
        self, method: str, url: str, *, token: str | None = "", headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        h = dict(headers or {})
        tok = self.token if token == "" else token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        return self.client.request(method, url, headers=h, **kw)

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def patch(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)


_APPS: dict[tuple[int, int], Any] = {}


def app_serving(rt: Runtime) -> Any:
    """The test process's app, serving ``rt`` (its runners start with the TestClient, as in a server).

    One app is built per set of limits it bakes into its middleware: FastAPI analyses its 250 routes at an
    app's first request (half a second to a second here), and an app per test paid that thousands of times."""
    from cityos.app import create_app

    key = (rt.settings.max_body_bytes, rt.settings.max_json_depth)
    app = _APPS.get(key)
    if app is None:
        app = _APPS[key] = create_app(runtime=rt)
    app.state.runtime = rt
    return app


@pytest.fixture
def api(rt: Runtime) -> Iterator[Api]:
    """The API over ASGI on SQLite and on PostgreSQL."""
    from fastapi.testclient import TestClient

    from cityos.auth.service import create_token

    token = create_token(rt.db, "test-admin", role="admin", kind="staff")
    with TestClient(app_serving(rt), raise_server_exceptions=False) as client:
        yield Api(client, token)


@pytest.fixture
def sqlite_api(sqlite_db: Database) -> Iterator[Api]:
    """The API over ASGI on SQLite only, with an admin token: for tests about who may call what, where
    storage does not matter (the attack suite's matrices)."""
    from fastapi.testclient import TestClient

    from cityos.auth.service import create_token
    from cityos.bus.memory import MemoryBus
    from cityos.config import Settings

    rt = Runtime(Settings(database_url=sqlite_db.url, notify_allowed_networks=LOCAL_RECEIVERS), sqlite_db, MemoryBus())
    token = create_token(rt.db, "test-admin", role="admin", kind="staff")
    with TestClient(app_serving(rt), raise_server_exceptions=False) as client:
        yield Api(client, token, rt)
    rt.bus.close()


def running(api: Api, kind: type[R]) -> R:
    """The runner of this class the app runs (its notifier, its live hub …); fails if it runs none."""
    found = api.client.app.state.runners.find(kind)  # type: ignore[attr-defined]
    assert found is not None, f"the app runs no {kind.__name__}"
    return found  # type: ignore[no-any-return]


# Waiting without sleeping: a test waits for what it expects to see, never for a span of time. State that
# only a query shows (rows, a server's answer) is polled with wait_for; what arrives through a callback (bus
# events, notifications, acknowledgements) is caught by a Seen and waited for on its condition.


def wait_for(check: Callable[[], Any], timeout: float = 10.0, *, what: Callable[[], Any] | None = None) -> Any:
    """Poll ``check`` until it returns something true (returned), or fail after ``timeout`` seconds
    (saying ``what()`` is the state then, when given)."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s" + (f": {what()}" if what else ""))
        time.sleep(pause)  # the poll's interval, not a wait for anything
        pause = min(2 * pause, 0.05)


class Seen(Generic[T]):
    """What a callback is given, in order: pass a Seen where the callback goes (a bus handler, a receiver,
    an MQTT client's on_message), then wait for a condition on what it has seen."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._cond = threading.Condition()

    def __call__(self, item: T) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, check: Callable[[list[T]], R], timeout: float = 15.0) -> R:
        """What ``check(items)`` returns as soon as it is true; fails after ``timeout`` seconds."""
        with self._cond:
            got = self._cond.wait_for(lambda: check(self.items), timeout)
            assert got, f"not within {timeout} s; seen {len(self.items)}, the last: {self.items[-3:]!r}"
            return got

    def first(self, n: int, timeout: float = 15.0) -> list[T]:
        """The first ``n`` items, once there are that many."""
        return self.wait_for(lambda items: items[:n] if len(items) >= n else None, timeout)

    def now(self) -> list[T]:
        """A copy of what has been seen so far."""
        with self._cond:
            return list(self.items)


def answers_health(url: str, timeout: float) -> bool:
    """Whether a server at ``url`` answers ``/health`` within ``timeout`` seconds."""

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        return bool(wait_for(healthy, timeout))
    except AssertionError:
        return False


# One shipped case classifier for the whole run: the controller names a model cache for it (CITYOS_MODEL_CACHE,
# unless the environment gives one) before the workers start, and every process of the run (the workers, their
# in-process apps, the servers and demos they start, which inherit the environment) loads it from there; the
# first that needs it trains it, the others wait for its file (cityos/cases/model_cache.py). Each process would
# otherwise train it anew: a minute on a loaded machine. tests/cases/test_model_cache.py trains one for real.
_MODEL_CACHE = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    if "CITYOS_MODEL_CACHE" not in os.environ:
        where = Path(tempfile.mkdtemp(prefix="cityos-test-models-"))
        os.environ["CITYOS_MODEL_CACHE"] = str(where)
        config.stash[_MODEL_CACHE] = where


def pytest_unconfigure(config: pytest.Config) -> None:
    where = config.stash.get(_MODEL_CACHE, None)
    if where is not None:
        shutil.rmtree(where, ignore_errors=True)
        del os.environ["CITYOS_MODEL_CACHE"]


def shipped_classifier() -> Any:
    """The shipped case classifier, from the run's model cache (trained there by the first process to ask)."""
    from cityos.cases.classifier import default_classifier

    return default_classifier(Path(os.environ["CITYOS_MODEL_CACHE"]))


Server = tuple[int, dict[str, str]]  # a server's port, and the environment that points the CLI at its database


@contextmanager
def serving(db: Database, where: Path) -> Iterator[Server]:
    """``cityos serve`` in a subprocess over ``db``, uvicorn on loopback, run in ``where``: (port, the
    environment that points the CLI at its database)."""
    from brokers import free_port

    env = dict(os.environ, CITYOS_DATABASE_URL=db.url, CITYOS_DATA_DIR=str(where))
    env["CITYOS_NOTIFY_ALLOWED_NETWORKS"] = LOCAL_RECEIVERS
    port = free_port()
    cityos = [sys.executable, "-m", "cityos.cli"]
    proc = subprocess.Popen(
        [*cityos, "serve", "--port", str(port)], env=env, cwd=where, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        if not answers_health(f"http://127.0.0.1:{port}", 120):  # a loaded machine takes a minute or two to start it
            proc.kill()
            pytest.fail(f"server did not start: {proc.stdout.read().decode() if proc.stdout else ''}")
        yield port, env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            pytest.fail("cityos serve did not stop within 60 s of SIGTERM")
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def cityos_server(db: Database, tmp_path: Path) -> Iterator[Server]:
    """A real cityos server (``cityos serve`` in a subprocess, uvicorn on loopback) for the clients' tests:
    (port, the environment that points the CLI at its database)."""
    with serving(db, tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def module_server(module_db: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real cityos server over :func:`module_db`, shared by the tests of a module that do not disturb each
    other (a start costs 20-60 s on a loaded machine): (port, the environment that points the CLI at its
    database)."""
    with serving(module_db, tmp_path_factory.mktemp("server")) as server:
        yield server
