"""The batching writer holds at most a few batches of submitted messages: a transport that reads
faster than the store writes waits, and lets go when the writer shuts down."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from conftest import Seen, wait_for
from iot_district import APIKEY, AQ, provision_district

from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.core.timefmt import format_ts, now_iso
from cityos.iot.models import Message, Outcome
from cityos.iot.writer import QUEUED_BATCHES, IngestWriter
from cityos.runtime import Runtime
from cityos.store.engine import Database

BATCH = 5


def reading(i: int) -> Message:
    at = format_ts(datetime.now(UTC) - timedelta(hours=1) + timedelta(seconds=i))
    payload = b'{"pm25": %d, "observedAt": "%s"}' % (i % 500, at.encode())
    return Message("mqtt", APIKEY, AQ, "json", payload, now_iso())


@pytest.fixture
def sqlite_rt(sqlite_db: Database) -> Iterator[Runtime]:
    """SQLite: the test stalls the store by holding its one writer thread."""
    rt = Runtime(Settings(database_url=sqlite_db.url), sqlite_db, MemoryBus())
    provision_district(rt)
    yield rt
    rt.bus.close()


def stall_store(rt: Runtime) -> tuple[threading.Event, threading.Thread]:
    """Occupy the database's one writer thread until the returned event is set."""
    stall, stalled = threading.Event(), threading.Event()

    def hold(_conn: object) -> None:
        stalled.set()
        stall.wait(10)

    holder = threading.Thread(target=lambda: rt.db.run_write(hold))
    holder.start()
    assert stalled.wait(5)
    return stall, holder


def test_submit_waits_while_the_store_is_stalled_and_nothing_is_lost(sqlite_rt: Runtime) -> None:
    rt = sqlite_rt
    w = IngestWriter(rt, batch_size=BATCH, batch_wait=0.01)
    stall, holder = stall_store(rt)
    done: Seen[Outcome] = Seen()
    submitted = [0]

    def transport() -> None:
        for i in range(QUEUED_BATCHES * BATCH + 10):
            w.submit(reading(i), done)
            submitted[0] += 1

    t = threading.Thread(target=transport)
    t.start()
    wait_for(lambda: submitted[0] >= QUEUED_BATCHES * BATCH)
    time.sleep(0.2)  # the point: while the store is stalled, the transport gets no further in this time
    assert submitted[0] == QUEUED_BATCHES * BATCH  # the transport waits at the bound
    assert done.now() == []
    stall.set()
    t.join(10)
    holder.join(10)
    done.first(QUEUED_BATCHES * BATCH + 10)
    assert len(done.now()) == QUEUED_BATCHES * BATCH + 10 and all(o.accepted for o in done.now())
    w.close()


def test_a_transport_waiting_on_a_full_writer_lets_go_at_shutdown(sqlite_rt: Runtime) -> None:
    rt = sqlite_rt
    w = IngestWriter(rt, batch_size=BATCH, batch_wait=0.01)
    stall, holder = stall_store(rt)
    acked: list[Outcome] = []
    submitted = [0]

    def transport() -> None:
        for i in range(QUEUED_BATCHES * BATCH + 1):
            w.submit(reading(i), acked.append)
            submitted[0] += 1

    t = threading.Thread(target=transport)
    t.start()
    wait_for(lambda: submitted[0] >= QUEUED_BATCHES * BATCH)  # the writer is full: the last one is submitted now
    time.sleep(0.2)  # the point: in this time the last submit does not return
    assert t.is_alive()  # waiting for room
    w.refuse_new()
    t.join(3)
    assert not t.is_alive()  # the last message was let go: not stored, not acknowledged
    stall.set()
    holder.join(10)
    w.close()
    assert len(acked) == QUEUED_BATCHES * BATCH


def test_messages_handed_in_together_are_settled_in_order_over_several_batches(sqlite_rt: Runtime) -> None:
    """submit_many's messages span three batches; each message's outcome comes back in its place, and the
    per-message callbacks of submit() in the same batches get theirs."""
    rt = sqlite_rt
    w = IngestWriter(rt, batch_size=BATCH, batch_wait=0.01)
    good, bad = reading(1), Message("mqtt", APIKEY, AQ, "json", b'{"pm25": "many"}', now_iso())
    messages = [bad if i % 4 == 3 else reading(100 + i) for i in range(2 * BATCH + 2)]
    singles: Seen[Outcome] = Seen()
    w.submit(good, singles)
    outcomes = w.submit_many(messages).result(10)
    assert [o.accepted for o in outcomes] == [i % 4 != 3 for i in range(len(messages))]
    assert {o.reason_code for o in outcomes if not o.accepted} == {"unparseable"}
    assert [o.accepted for o in singles.first(1)] == [True]
    w.close()
