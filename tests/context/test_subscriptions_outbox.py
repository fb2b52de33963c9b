"""The notification outbox: ids stable across versions of the code that makes them, one row per batch of
notifications, deleted when they are all done and written again with the rest when half of them are."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from conftest import Api, running, wait_for
from hypothesis import given
from hypothesis import strategies as st
from receivers import WAIT, Receiver

from cityos.context.subscriptions import outbox
from cityos.context.subscriptions.notify import Notifier
from cityos.runtime import Runtime


@given(st.text(), st.text(), st.text())
def test_notification_ids_are_the_uuid5_names_they_always_were(event_id: str, tenant: str, sub_id: str) -> None:
    # an outbox row stored before must meet the same id when its event is matched again after an upgrade
    name = f"{event_id} {tenant} {sub_id}"
    expected = f"urn:ngsi-ld:Notification:{uuid.uuid5(outbox._NAMESPACE, name)}"
    assert outbox.notification_id(event_id, tenant, sub_id) == expected


def test_a_row_of_notifications_comes_back_as_it_was_stored(rt: Runtime) -> None:
    items = [
        outbox.Pending("default", f"urn:ngsi-ld:Subscription:{n}", outbox.notification_id("e", "default", str(n)),
                       outbox.next_seq(), "urn:ngsi-ld:Sensor:1", '{"id":"urn:ngsi-ld:Sensor:1","seq":7}', 1.5)
        for n in range(3)
    ]  # fmt: skip
    first, second = outbox.next_seq(), outbox.next_seq()
    rt.db.run_write(lambda conn: outbox.store(conn, second, items[2:]))
    rt.db.run_write(lambda conn: outbox.store(conn, first, items[:2]))
    assert outbox.load(rt) == [(first, items[:2]), (second, items[2:])]
    assert outbox.count(rt) == 3
    rt.db.run_write(lambda conn: outbox.remove(conn, [first, second]))
    assert outbox.load(rt) == []


@pytest.fixture
def two_receivers() -> Iterator[tuple[Receiver, Receiver, threading.Event]]:
    held = threading.Event()  # the second receiver holds what it gets until this is set
    ok, hanging = Receiver(), Receiver(hang=held)
    yield ok, hanging, held
    held.set()
    ok.close()
    hanging.close()


def test_a_row_is_written_again_with_what_is_left_and_goes_when_all_is_done(
    api: Api, two_receivers: tuple[Receiver, Receiver, threading.Event]
) -> None:
    ok, hanging, held = two_receivers
    notifier = running(api, Notifier)
    notifier.config.timeout = 2 * WAIT  # the held receiver's notifications stay in flight, not failed
    ids = []
    for rx in (ok, hanging):
        body = {
            "type": "Subscription",
            "entities": [{"type": "Sensor"}],
            "notification": {"format": "keyValues", "endpoint": {"uri": rx.url}},
        }
        r = api.post("/ngsi-ld/v1/subscriptions", json=body)
        assert r.status_code == 201, r.text
        ids.append(r.headers["Location"].rsplit("/", 1)[1])
    sensors = [{"id": f"urn:ngsi-ld:Sensor:{n}", "type": "Sensor", "seq": {"type": "Property", "value": n}}
               for n in range(4)]  # fmt: skip
    assert api.post("/ngsi-ld/v1/entityOperations/create", json=sensors).status_code == 201
    ok.seen.wait_for(lambda got: len(got) == 4, WAIT)
    hanging.entered.wait(WAIT)

    def rows() -> list[tuple[int, list[outbox.Pending]]]:
        return outbox.load(api.rt)

    # the four the first receiver took are gone: their row (or rows) were written again with the held receiver's
    def left() -> list[tuple[str, str]]:
        return sorted((p.subscription_id, p.entity_id) for _, items in rows() for p in items)

    wait_for(lambda: left() == [(ids[1], s["id"]) for s in sensors], WAIT, what=rows)
    held.set()
    hanging.seen.wait_for(lambda got: len(got) == 4, WAIT)
    wait_for(lambda: rows() == [], WAIT, what=rows)
