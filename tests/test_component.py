"""Components and roles: runners start and stop as one unit, and a role runs in one process at a time."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import wait_for
from sqlalchemy import text

from cityos.bus.memory import MemoryBus
from cityos.component import RoleHolder, Runners, process_runners
from cityos.components import COMPONENTS
from cityos.config import Settings
from cityos.core.roles import ROLES, parse_roles
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.lease import FileLease, lock_key, open_lease


class Recorder:
    def __init__(self, log: list[str], name: str, *, fails: bool = False) -> None:
        self.log, self.name, self.fails = log, name, fails

    def start(self) -> None:
        if self.fails:
            raise RuntimeError(f"{self.name} cannot start")
        self.log.append(f"start {self.name}")

    def close(self) -> None:
        self.log.append(f"close {self.name}")


def test_runners_start_in_order_and_close_in_reverse() -> None:
    log: list[str] = []
    runners = Runners([Recorder(log, "a"), Recorder(log, "b")])
    runners.start()
    runners.close()
    runners.close()  # a second close closes nothing twice
    assert log == ["start a", "start b", "close b", "close a"]


def test_a_runner_that_fails_to_start_stops_those_started_before_it() -> None:
    log: list[str] = []
    runners = Runners([Recorder(log, "a"), Recorder(log, "b"), Recorder(log, "c", fails=True), Recorder(log, "d")])
    with pytest.raises(RuntimeError, match="c cannot start"):
        runners.start()
    assert log == ["start a", "start b", "close b", "close a"]


def test_roles_are_parsed_with_a_clear_refusal() -> None:
    assert parse_roles("vitals, cases") == ("vitals", "cases")
    assert parse_roles("notify,ingest") == ("ingest", "notify")  # in ROLES order
    assert parse_roles("none") == parse_roles("") == ()
    with pytest.raises(ValueError, match=r"unknown role 'vital'.*ingest, vitals, cases, notify"):
        parse_roles("vital")
    assert Settings(roles="auto").serve_roles == ROLES
    assert "notify" not in Settings(roles="auto", bus_url="nats://127.0.0.1:4222").serve_roles
    with pytest.raises(ValueError, match="unknown role"):
        Settings(roles="vitals,everything")


def test_every_role_has_one_component_that_runs_it() -> None:
    for role in ROLES:
        assert [c.name for c in COMPONENTS if role in c.roles] != [], role
        assert len([c for c in COMPONENTS if role in c.roles]) == 1, role


def test_a_role_runs_in_one_holder_at_a_time_and_a_standby_takes_over(db: Database) -> None:
    rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
    log: list[str] = []
    first = RoleHolder(rt, "vitals", lambda _rt: Recorder(log, "first"), retry_seconds=0.05)
    second = RoleHolder(rt, "vitals", lambda _rt: Recorder(log, "second"), retry_seconds=0.05)
    first.start()
    second.start()
    try:
        assert first.active and not second.active
        first.close()  # the holder stops: its lease goes with it
        wait_for(lambda: second.active)
        assert log == ["start first", "close first", "start second"]
    finally:
        first.close()
        second.close()
    assert not second.active and log[-1] == "close second"


def test_a_role_that_fails_to_start_gives_its_lease_up(db: Database) -> None:
    rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
    log: list[str] = []
    broken = RoleHolder(rt, "cases", lambda _rt: Recorder(log, "broken", fails=True), retry_seconds=60)
    broken.start()
    other = RoleHolder(rt, "cases", lambda _rt: Recorder(log, "other"), retry_seconds=60)
    other.start()
    try:
        assert not broken.active and other.active
    finally:
        broken.close()
        other.close()


@pytest.mark.postgres
def test_an_advisory_lease_is_lost_with_its_connection(pg_database_url: str) -> None:
    db = Database(pg_database_url)
    try:
        mine, theirs = open_lease(db, "role-test"), open_lease(db, "role-test")
        assert mine.acquire() and not theirs.acquire()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            held_by = (
                admin.execute(
                    text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = :low"),
                    {"low": lock_key("role-test") & 0xFFFFFFFF},
                )
                .scalars()
                .all()
            )
            assert len(held_by) == 1  # one session holds it
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": held_by[0]})
        assert not mine.held()  # the server ended the session, and the lock with it
        assert theirs.acquire()
        theirs.release()
        mine.release()
    finally:
        db.dispose()


def test_a_file_lease_is_released_when_its_process_dies(tmp_path: Path) -> None:
    path = tmp_path / "cityos.db.role-vitals.lease"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import fcntl, os, sys, time; fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        lease = FileLease(path, "role-vitals")
        assert not lease.acquire()
        holder.kill()
        holder.wait()
        assert lease.acquire() and lease.held()
        lease.release()
        assert not lease.held()
    finally:
        holder.kill()
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_process_runs_its_api_runners_and_the_roles_it_may_take(db: Database) -> None:
    rt = Runtime(Settings(database_url=db.url), db, MemoryBus())
    runners = process_runners(rt, COMPONENTS, api=False, roles=("cases",))
    assert [type(r).__name__ for r in runners.runners] == ["GuardRunner", "RoleHolder"]
    started = threading.Event()
    runners.runners[-1].make = lambda _rt: _Flag(started)  # type: ignore[attr-defined]
    runners.start()
    try:
        assert started.is_set()
    finally:
        runners.close()


class _Flag:
    def __init__(self, flag: threading.Event) -> None:
        self.flag = flag

    def start(self) -> None:
        self.flag.set()

    def close(self) -> None:
        self.flag.clear()


def test_ingest_takes_a_lease_with_one_mqtt_session_and_runs_in_every_holder_with_several(db: Database) -> None:
    def holders(sessions: int) -> list[RoleHolder]:
        settings = Settings(database_url=db.url, mqtt_sessions=sessions)
        made = [process_runners(Runtime(settings, db, MemoryBus()), COMPONENTS, api=False, roles=("ingest",))]
        made.append(process_runners(Runtime(settings, db, MemoryBus()), COMPONENTS, api=False, roles=("ingest",)))
        out = [r for runners in made for r in runners.runners if isinstance(r, RoleHolder)]
        for h in out:
            h.make = lambda _rt: Recorder([], "ingest")
        return out

    for sessions, running in ((1, [True, False]), (2, [True, True])):
        two = holders(sessions)
        for h in two:
            h.start()
        try:
            assert [h.active for h in two] == running  # one session: the second process stands by
        finally:
            for h in two:
                h.close()


def test_shared_mqtt_sessions_refuse_a_client_id_that_cannot_name_the_share_group() -> None:
    with pytest.raises(ValueError, match=r"CITYOS_MQTT_CLIENT_ID 'ingest/a' names the shared subscription's group"):
        Settings(mqtt_sessions=2, mqtt_client_id="ingest/a")
    assert Settings(mqtt_client_id="ingest/a").mqtt_client_id == "ingest/a"  # one session: no group to name
