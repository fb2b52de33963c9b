"""The NATS JetStream bus on the real local server: matching, de-duplication, durable resume, redelivery."""

from __future__ import annotations

import asyncio
import os
import queue
import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing, suppress
from typing import Any, TypeVar
from urllib.parse import urlsplit

import nats
import nats.js.errors
import pytest
from conftest import Seen, wait_for
from nats.js import JetStreamContext, api

import cityos.bus.nats as nats_bus
from cityos.bus.base import Event, open_bus
from cityos.bus.nats import NatsBus

NATS_URL = os.environ.get("CITYOS_TEST_NATS_URL", "nats://127.0.0.1:4222")
START_HINT = (
    "start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- "
    "-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log"
)

T = TypeVar("T")
pytestmark = pytest.mark.nats


@pytest.fixture(scope="module", autouse=True)
def _nats_server_is_up() -> None:
    """Fail (not skip) every test here when the server is down: these tests are the NATS bus's only check."""
    u = urlsplit(NATS_URL)
    try:
        socket.create_connection((u.hostname, u.port or 4222), timeout=2).close()
    except OSError as exc:
        pytest.fail(f"no NATS server at {NATS_URL} ({exc}); {START_HINT}", pytrace=False)


def _admin(work: Callable[[JetStreamContext], Awaitable[T]]) -> T:
    """Run ``work`` with a JetStream context of a short-lived connection of the test's own."""

    async def main() -> T:
        nc = await nats.connect(NATS_URL)
        try:
            return await work(nc.jetstream())
        finally:
            await nc.close()

    return asyncio.run(main())


@pytest.fixture
def names() -> Iterator[dict[str, Any]]:
    """A stream and subject prefix of this test alone; the stream is deleted afterwards."""
    run = uuid.uuid4().hex[:12]
    kw = {"stream": f"CITYOS_TEST_{run}", "subject_prefix": f"cityostest.{run}"}
    yield kw

    async def delete(js: JetStreamContext) -> None:
        with suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(kw["stream"])

    _admin(delete)


@pytest.fixture
def bus(names: dict[str, Any]) -> Iterator[NatsBus]:
    b = NatsBus(NATS_URL, **names)
    yield b
    b.close()


def _consumer_info(stream: str, consumer: str) -> api.ConsumerInfo:
    return _admin(lambda js: js.consumer_info(stream, consumer))


def _wait_until_all_acked(stream: str, consumer: str) -> api.ConsumerInfo:
    last: list[api.ConsumerInfo] = []

    def settled() -> api.ConsumerInfo | None:
        last[:] = [_consumer_info(stream, consumer)]
        return last[0] if last[0].num_ack_pending == 0 else None

    return wait_for(settled, 15, what=lambda: last)  # type: ignore[no-any-return]


def _take(q: queue.Queue[Event], n: int) -> list[Event]:
    return [q.get(timeout=5) for _ in range(n)]


def test_round_trip_matches_patterns_across_tenants_and_keeps_order(bus: NatsBus) -> None:
    entities: queue.Queue[Event] = queue.Queue()
    cases: queue.Queue[Event] = queue.Queue()
    cancel = bus.subscribe("entity.*", entities.put)
    bus.subscribe("case.>", cases.put)
    created = Event("entity.created", "urn:ngsi-ld:Bridge:1", {"name": "南门桥", "load": [1.5, None]}, tenant="city-a")
    opened = Event("case.opened", "case-1", {"source": "12345"}, tenant="city-a")
    updated = Event("entity.updated", "urn:ngsi-ld:Bridge:1", {"load": 2}, tenant="district_b")
    bus.publish([created, opened, updated])

    assert _take(entities, 2) == [created, updated]  # every field intact, in publish order
    assert cases.get(timeout=5) == opened
    assert entities.empty()  # case.opened was stored before entity.updated, so it would be here by now

    batch = [Event("entity.updated", f"k{i % 7}", {"i": i}) for i in range(1000)]
    bus.publish(batch)
    assert [e.data["i"] for e in _take(entities, 1000)] == list(range(1000))

    cancel()
    later = Event("case.closed", "case-1", {})
    bus.publish([Event("entity.deleted", "urn:ngsi-ld:Bridge:1", {}), later])
    assert cases.get(timeout=5) == later
    assert entities.empty()


def test_the_same_event_published_twice_is_delivered_once(bus: NatsBus) -> None:
    got: queue.Queue[Event] = queue.Queue()
    bus.subscribe("entity.>", got.put)
    event = Event("entity.created", "a", {"n": 1})
    bus.publish([event])
    bus.publish([event])  # a retry after, say, a lost ack
    marker = Event("entity.updated", "a", {"n": 2})
    bus.publish([marker])
    assert _take(got, 2) == [event, marker]


def test_a_durable_consumer_resumes_where_it_left_off(names: dict[str, Any]) -> None:
    kw = {**names, "durable_prefix": "test"}
    first = [Event("entity.created", "a", {"n": 1}), Event("entity.updated", "a", {"n": 2})]
    missed = [Event("entity.updated", "a", {"n": 3}), Event("entity.deleted", "b", {"n": 4})]

    b1 = NatsBus(NATS_URL, **kw)
    got1: queue.Queue[Event] = queue.Queue()
    b1.subscribe("entity.*", got1.put, durable="indexer")
    b1.publish(first)
    assert _take(got1, 2) == first
    b1.close()
    b1.close()  # idempotent

    b2 = NatsBus(NATS_URL, **kw)
    b2.publish(missed)  # nobody is listening on "indexer" now
    b2.close()

    b3 = NatsBus(NATS_URL, **kw)
    try:
        got3: queue.Queue[Event] = queue.Queue()
        b3.subscribe("entity.*", got3.put, durable="indexer")
        assert _take(got3, 2) == missed
        fresh = Event("entity.created", "c", {"n": 5})
        b3.publish([fresh])
        assert got3.get(timeout=5) == fresh  # nothing acked earlier came back before it
        info = _wait_until_all_acked(names["stream"], "test-indexer")
        assert (info.num_ack_pending, info.num_pending, info.num_redelivered) == (0, 0, 0)
        assert info.delivered.stream_seq == 5
    finally:
        b3.close()


def test_a_failing_handler_gets_the_event_again_and_it_is_then_acked(bus: NatsBus, names: dict[str, Any]) -> None:
    calls: list[Event] = []
    handled = threading.Event()

    def flaky(event: Event) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("the search index is down")
        handled.set()

    bus.subscribe("entity.*", flaky, durable="flaky")
    event = Event("entity.created", "a", {"n": 1})
    bus.publish([event])
    assert handled.wait(10)
    assert calls == [event, event]
    info = _wait_until_all_acked(names["stream"], "flaky")
    assert info.num_ack_pending == 0
    assert info.ack_floor.stream_seq == 1


def test_batch_handlers_get_every_event_in_order_and_a_failed_batch_again(bus: NatsBus, names: dict[str, Any]) -> None:
    seen: Seen[list[Event]] = Seen()
    events = [Event("entity.updated", f"k{i % 5}", {"i": i}) for i in range(250)]

    def handle(batch: list[Event]) -> None:
        seen(batch)
        if len(seen.items) == 1:  # one batch at a time: nobody else appends meanwhile
            raise RuntimeError("the outbox database is down")

    bus.subscribe_batches("entity.*", handle, durable="batches")
    bus.publish(events)

    def all_handled(batches: list[list[Event]]) -> set[str] | None:
        ids = {e.id for b in batches[1:] for e in b}
        return ids if len(ids) == len(events) else None

    handled = seen.wait_for(all_handled)
    assert handled == {e.id for e in events}  # the failed batch came again, nothing was lost
    batches = seen.now()
    assert len(batches[0]) >= 1 and any(len(b) > 1 for b in batches)
    for b in batches:
        assert [e.data["i"] for e in b] == sorted(e.data["i"] for e in b)  # stream order within a batch
    assert _wait_until_all_acked(names["stream"], "batches").num_ack_pending == 0


def test_several_patterns_share_one_consumer_in_publish_order(bus: NatsBus, names: dict[str, Any]) -> None:
    got: queue.Queue[Event] = queue.Queue()
    bus.subscribe_batches(("entity.*", "subscription.*"), lambda batch: [got.put(e) for e in batch], durable="both")
    assert _consumer_info(names["stream"], "both").config.filter_subject == f"{names['subject_prefix']}.*.*.*"
    made = Event("subscription.created", "urn:ngsi-ld:Subscription:1", {"id": "urn:ngsi-ld:Subscription:1"})
    events = [
        Event("entity.created", "a", {"n": 1}),
        made,
        Event("case.opened", "case-1", {}),  # under the covering filter, matching neither pattern
        Event("entity.updated", "a", {"n": 2}, tenant="district_b"),
    ]
    bus.publish(events[:2])
    bus.publish(events[2:])  # separate messages, as the API's two requests would make
    assert _take(got, 3) == [events[0], made, events[3]]  # as published, across the two subjects
    assert got.empty()
    assert _wait_until_all_acked(names["stream"], "both").num_pending == 0  # case.opened was acked unseen


def test_a_durable_consumer_replacing_another_starts_where_that_one_left_off(names: dict[str, Any]) -> None:
    old: queue.Queue[Event] = queue.Queue()
    handled = [Event("entity.created", "a", {"n": 1}), Event("entity.updated", "a", {"n": 2})]
    waiting = [Event("entity.updated", "a", {"n": 3}), Event("subscription.created", "s", {"id": "s"})]
    with closing(NatsBus(NATS_URL, **names)) as b1:
        b1.subscribe("entity.*", old.put, durable="notify")
        b1.publish(handled)
        assert _take(old, 2) == handled
        _wait_until_all_acked(names["stream"], "notify")
    with closing(NatsBus(NATS_URL, **names)) as b2:
        b2.publish(waiting)  # the old consumer is down; the new one does not exist yet
        got: queue.Queue[Event] = queue.Queue()
        b2.subscribe_batches(
            ("entity.*", "subscription.*"), lambda batch: [got.put(e) for e in batch], durable="notifier",
            replaces="notify",
        )  # fmt: skip
        assert _take(got, 2) == waiting  # what the old one had not taken, and nothing it had
        with pytest.raises(nats.js.errors.NotFoundError):
            _consumer_info(names["stream"], "notify")  # gone, once its successor exists
        later = Event("entity.deleted", "a", {})
        b2.publish([later])
        assert got.get(timeout=5) == later
        assert got.empty()


def test_a_slow_handler_blocks_neither_publish_nor_other_subscriptions(bus: NatsBus) -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    slow_seen: Seen[Event] = Seen()

    def slow(event: Event) -> None:
        slow_seen(event)
        started.set()
        release.wait(10)
        finished.set()

    fast: queue.Queue[Event] = queue.Queue()
    bus.subscribe("entity.*", slow)
    bus.subscribe("entity.*", fast.put)
    e1, e2 = Event("entity.created", "a", {}), Event("entity.updated", "a", {})
    bus.publish([e1])
    assert started.wait(5)
    bus.publish([e2])  # returns (stored and acked) while the slow handler is still inside e1
    assert not finished.is_set()
    assert _take(fast, 2) == [e1, e2]
    assert slow_seen.now() == [e1]  # one at a time, in order
    release.set()
    assert slow_seen.wait_for(lambda s: list(s) if len(s) >= 2 else None) == [e1, e2]


def test_a_lost_consumer_is_recreated(names: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nats_bus, "_IDLE_FETCH_WAIT", 0.3)
    monkeypatch.setattr(nats_bus, "_CONSUMER_CHECK_INTERVAL", 0.0)
    with closing(NatsBus(NATS_URL, **names)) as b:
        got: queue.Queue[Event] = queue.Queue()
        b.subscribe("entity.*", got.put, durable="lost")
        _admin(lambda js: js.delete_consumer(names["stream"], "lost"))
        for i in range(20):  # events before the consumer is back are not for it: it starts anew
            event = Event("entity.created", "a", {"i": i})
            b.publish([event])
            try:
                assert got.get(timeout=0.5) == event
                break
            except queue.Empty:
                pass
        else:
            pytest.fail("the subscription did not get a new consumer")


def test_open_bus_by_url_and_connection_errors() -> None:
    async def exists(js: JetStreamContext) -> bool:
        try:
            await js.stream_info("CITYOS")
            return True
        except nats.js.errors.NotFoundError:
            return False

    existed = _admin(exists)
    b = open_bus(NATS_URL)
    try:
        assert isinstance(b, NatsBus)
    finally:
        b.close()
        if not existed:  # leave a shared server as it was
            _admin(lambda js: js.delete_stream("CITYOS"))

    with pytest.raises(ValueError, match=r"memory://.*nats://"):
        open_bus("kafka://x")

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RuntimeError, match=rf"nats://127\.0\.0\.1:{port}") as err:
        NatsBus(f"nats://127.0.0.1:{port}", connect_timeout=1.0)
    assert "no server answered within 1.0 s" in str(err.value)  # its own timeout ended it, not the call's later guard


def test_invalid_names_are_refused_before_anything_is_sent(bus: NatsBus) -> None:
    with pytest.raises(ValueError, match="tenant"):
        bus.publish([Event("entity.created", "a", {}, tenant="a.b")])
    with pytest.raises(ValueError, match="pattern"):
        bus.subscribe("entity.>.x", lambda e: None)
    bus.subscribe("entity.*", lambda e: None, durable="one-pattern")
    with pytest.raises(ValueError, match="follows"):
        bus.subscribe("case.*", lambda e: None, durable="one-pattern")


def test_events_of_one_publish_share_messages_and_a_failing_one_brings_its_message_again(
    bus: NatsBus, names: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nats_bus, "_EVENTS_PER_MESSAGE", 10)
    calls: list[Event] = []
    done = threading.Event()
    events = [Event("entity.updated", f"k{i}", {"i": i}) for i in range(25)] + [Event("entity.deleted", "k0", {})]

    def flaky(event: Event) -> None:
        calls.append(event)
        if event.data.get("i") == 12 and sum(c is event or c == event for c in calls) == 1:
            raise RuntimeError("the search index is down")
        if event.subject == "entity.deleted":
            done.set()

    bus.subscribe("entity.*", flaky, durable="shared")
    bus.publish(events)
    bus.publish(events)  # a retry: the same messages, stored once
    info = _admin(lambda js: js.stream_info(names["stream"]))
    assert info.state.messages == 4  # 10 + 10 + 5 updates, 1 deletion
    assert done.wait(10)
    wait_for(lambda: len(calls) >= 36 or None, 15, what=lambda: calls)
    # the message holding event 12 (events 10-19) came again whole; every event was handled, in order at first
    assert calls[:26] == events
    assert calls[26:] == events[10:20]
    assert _wait_until_all_acked(names["stream"], "shared").num_ack_pending == 0
