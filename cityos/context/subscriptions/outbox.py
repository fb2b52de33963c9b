"""The notification outbox (``context_notification_outbox``): what was matched and is still to be sent.

The notifier stores each batch of matched notifications as one row, in one transaction, before it
acknowledges the bus events they came from. Delivery deletes a row once every notification in it was
taken by its receiver (or its subscription failed or was deleted), and writes a row whose notifications
are half done or more again with the rest. A notifier that starts sends what is left, so a crash or a
kill loses nothing: at worst a notification goes out twice, with the same notification id.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterable
from typing import NamedTuple

import orjson
from sqlalchemy import Connection, select

from cityos.context.tables import notification_outbox as table
from cityos.runtime import Runtime

# Notification ids are uuid5 names in this namespace, so that the same event matched again after a
# redelivery gives the same id (and the same outbox row).
_NAMESPACE = uuid.UUID("6f1c2a9e-58a4-4d4e-9a55-2b7f0c3d1e01")
_NAMESPACE_BYTES = _NAMESPACE.bytes


class Pending(NamedTuple):
    """One matched notification of one entity for one subscription (a tuple: a notifier makes thousands a
    second, and it is stored as the JSON array of these fields, in this order)."""

    tenant: str
    subscription_id: str
    notification_id: str
    seq: int
    entity_id: str
    entity: str  # rendered JSON
    event_time: float

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.tenant, self.subscription_id, self.notification_id)


def notification_id(event_id: str, tenant: str, subscription_id: str) -> str:
    """The stable id of the notification an event gives a subscription."""
    return _urn(f"{event_id} {tenant} {subscription_id}")


def batch_id(items: Iterable[Pending]) -> str:
    """The id of one notification carrying several coalesced ones: the same items give the same id."""
    keys = sorted(p.notification_id for p in items)
    if len(keys) == 1:
        return keys[0]
    return _urn(" ".join(keys))


def _urn(name: str) -> str:
    """``urn:ngsi-ld:Notification:`` and ``uuid.uuid5(_NAMESPACE, name)``, made without the UUID object (a
    third of the cost, once per notification)."""
    h = hashlib.sha1(_NAMESPACE_BYTES + name.encode()).hexdigest()
    # version 5 in the 13th hex digit, the RFC 4122 variant (binary 10) in the top bits of the 17th
    return f"urn:ngsi-ld:Notification:{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


class _Sequence:
    """Increasing numbers from the clock, so that order holds across restarts and processes."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1000)
            return self._last


next_seq = _Sequence().next


# As SQL text run through the driver: SQLAlchemy's work on the parameters cost more than the rows did.
_MARKS = {"sqlite": "?", "postgresql": "%s"}
_STORE = {dialect: f"INSERT INTO {table.name} (id, notifications) VALUES ({m}, {m})" for dialect, m in _MARKS.items()}
_REMOVE = {dialect: f"DELETE FROM {table.name} WHERE id = {m}" for dialect, m in _MARKS.items()}


def store(conn: Connection, row_id: int, items: list[Pending]) -> None:
    """Add ``items`` as the row ``row_id`` (from :func:`next_seq`) in the caller's transaction."""
    if items:
        conn.exec_driver_sql(_STORE[conn.dialect.name], (row_id, orjson.dumps(items, default=tuple).decode()))


def remove(conn: Connection, row_ids: Iterable[int]) -> None:
    """Delete rows whose notifications were all delivered or given up."""
    params = [(i,) for i in row_ids]
    if params:
        conn.exec_driver_sql(_REMOVE[conn.dialect.name], params)


def load(rt: Runtime) -> list[tuple[int, list[Pending]]]:
    """Every row: its id and notifications, oldest row first."""
    with rt.db.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.notifications).order_by(table.c.id)).all()
    return [(row_id, [Pending(*fields) for fields in orjson.loads(items)]) for row_id, items in rows]


def count(rt: Runtime) -> int:
    """How many notifications the outbox holds (all tenants; some may have been sent since their row was written)."""
    return sum(len(items) for _, items in load(rt))
