"""`cityos worker` on the real NATS server: killed with SIGKILL and restarted, it loses no notification.

The API runs in this process on a SQLite file with the NATS bus (so without the notify role); the
worker is a real ``cityos worker`` process on the same database and stream. The receiver answers
slowly, so when the worker is killed some notifications are matched but unsent (in the outbox) and,
while it is down, more events wait in the NATS durable consumer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import nats.js.errors
import pytest
from conftest import LOCAL_RECEIVERS, Api, wait_for
from fastapi.testclient import TestClient
from receivers import WAIT, Receiver
from test_nats import NATS_URL, _admin, _nats_server_is_up, names  # noqa: F401 (fixtures)

from cityos.app import create_app
from cityos.auth.service import create_token
from cityos.bus.base import open_bus
from cityos.config import Settings
from cityos.context.subscriptions import outbox
from cityos.context.subscriptions.notify import Notifier
from cityos.runtime import Runtime
from cityos.store.engine import Database
from cityos.store.migrate import upgrade

ENTITY = "urn:ngsi-ld:WaterLevelSensor:pump-7"
# a new `cityos worker` imports its whole stack and starts its runners before it binds its consumer: on a
# loaded two-core machine that took more than WAIT
START_WAIT = 4 * WAIT
pytestmark = pytest.mark.nats  # the worker and the API share the NATS bus


class Worker:
    """A `cityos worker` subprocess."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cityos.cli", "worker"], env=self.env, stdout=out, stderr=out
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(15)


def _wait_for_consumer(stream: str, durable: str) -> None:
    """The worker has bound its durable consumer: events published from now on reach it."""

    def bound() -> bool:
        try:
            _admin(lambda js: js.consumer_info(stream, durable))
            return True
        except nats.js.errors.NotFoundError:
            return False

    wait_for(bound, START_WAIT, what=lambda: "the worker never created its NATS consumer")


@pytest.fixture
def district(names: dict[str, Any], tmp_path: Path) -> Iterator[tuple[Api, Runtime, Worker]]:  # noqa: F811
    query = urlencode({"stream": names["stream"], "subject_prefix": names["subject_prefix"]})
    bus_url = f"{NATS_URL}?{query}"
    db_url = f"sqlite:///{tmp_path / 'cityos.db'}"
    db = Database(db_url)
    upgrade(db)
    settings = Settings(database_url=db_url, bus_url=bus_url, notify_allowed_networks=LOCAL_RECEIVERS)
    rt = Runtime(settings, db, open_bus(bus_url))
    env = dict(os.environ, CITYOS_DATABASE_URL=db_url, CITYOS_BUS_URL=bus_url, CITYOS_DATA_DIR=str(tmp_path),
               CITYOS_NOTIFY_ALLOWED_NETWORKS=LOCAL_RECEIVERS)  # fmt: skip
    worker = Worker(env, tmp_path / "worker.log")
    token = create_token(db, "ops-centre", role="admin", kind="staff")
    try:
        with TestClient(create_app(runtime=rt), raise_server_exceptions=False) as client:
            assert client.app.state.runners.find(Notifier) is None  # the worker notifies, not the API process
            yield Api(client, token), rt, worker
    finally:
        if worker.proc is not None and worker.proc.poll() is None:
            worker.kill()
        rt.close()


def _level(api: Api, seq: int) -> None:
    r = api.patch(f"/ngsi-ld/v1/entities/{ENTITY}/attrs", json={"seq": {"type": "Property", "value": seq}})
    assert r.status_code == 204, r.text


def _seqs(got: list[tuple[dict[str, Any], dict[str, str]]]) -> list[tuple[int, str]]:
    """(seq, notification id) of each value notified."""
    return [(e["seq"], body["id"]) for body, _ in got for e in body["data"]]


def test_worker_killed_and_restarted_loses_no_notification(
    district: tuple[Api, Runtime, Worker],
    names: dict[str, Any],  # noqa: F811
) -> None:
    api, rt, worker = district
    held = threading.Event()  # set: the receiver answers; cleared: it holds each notification until set again
    held.set()
    rx = Receiver(delay=0.03, hang=held)
    try:
        worker.start()
        _wait_for_consumer(names["stream"], "notifier")
        r = api.post(
            "/ngsi-ld/v1/subscriptions",
            json={
                "type": "Subscription",
                "entities": [{"type": "WaterLevelSensor"}],
                "watchedAttributes": ["seq"],
                "notification": {"format": "keyValues", "attributes": ["seq"], "endpoint": {"uri": rx.url}},
            },
        )
        assert r.status_code == 201, r.text
        doc = {"id": ENTITY, "type": "WaterLevelSensor", "seq": {"type": "Property", "value": -1}}
        assert api.post("/ngsi-ld/v1/entities", json=doc).status_code == 201
        # The subscription reaches the worker on the consumer of the entity events, before them: the first
        # update after the API answered it notifies.
        rx.seen.wait_for(lambda got: any(s == -1 for s, _ in _seqs(got)), START_WAIT)

        for seq in range(40):
            _level(api, seq)
        rx.seen.wait_for(lambda got: len({s for s, _ in _seqs(got) if s >= 0}) >= 8, 2 * WAIT)  # it delivers
        held.clear()  # what is sent from now on is held unanswered, so the kill leaves some unsent however slow we are
        rx.entered.clear()
        rx.entered.wait(WAIT)
        worker.kill()
        held.set()
        assert outbox.count(rt) > 0  # matched, stored, not yet sent
        for seq in range(40, 80):  # the worker is down: these wait in NATS
            _level(api, seq)

        worker.start()
        rx.seen.wait_for(lambda got: {s for s, _ in _seqs(got)} >= set(range(80)), START_WAIT)  # none lost
        wait_for(lambda: outbox.count(rt) == 0, 2 * WAIT, what=lambda: "the outbox was not emptied")
        ids_by_seq: dict[int, set[str]] = {}
        for seq, note_id in _seqs(rx.got):
            if seq >= 0:  # -1, the entity's creation, may come twice (a redelivery after the kill)
                ids_by_seq.setdefault(seq, set()).add(note_id)
        assert all(len(ids) == 1 for ids in ids_by_seq.values())  # a repeat carries the same id
        assert worker.stop() == 0
    finally:
        rx.close()
