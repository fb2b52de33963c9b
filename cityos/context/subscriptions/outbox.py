"""The notification outbox (``context_notification_outbox``): what was matched and is still to be sent.

The notifier stores a batch of matched notifications in one transaction before it acknowledges the
bus events they came from, and deletes each once its receiver took it (or its subscription failed or
was deleted). A notifier that starts sends what is left, so a crash or a kill loses nothing: at
worst a notification goes out twice, with the same notification id.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
import uuid
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Connection, delete, func, select

from cityos.context.tables import notification_outbox as table
from cityos.runtime import Runtime

# Notification ids are uuid5 names in this namespace, so that the same event matched again after a
# redelivery gives the same id (and the same outbox row).
_NAMESPACE = uuid.UUID("6f1c2a9e-58a4-4d4e-9a55-2b7f0c3d1e01")
_NAMESPACE_BYTES = _NAMESPACE.bytes


class Pending(NamedTuple):
    """One matched notification of one entity for one subscription (a tuple: a notifier makes thousands a
    second, and these fields in this order are the columns of its outbox row)."""

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


# As SQL text run through the driver: SQLAlchemy's work on each row's parameters cost more than the rows.
_MARKS = {"sqlite": "?", "postgresql": "%s"}
_COLUMNS = ", ".join(Pending._fields)  # the table's columns, in the order of Pending's fields
_STORE = {
    dialect: f"INSERT INTO {table.name} ({_COLUMNS}) VALUES ({', '.join([m] * len(Pending._fields))})"
    " ON CONFLICT DO NOTHING"
    for dialect, m in _MARKS.items()
}
_REMOVE = {
    dialect: f"DELETE FROM {table.name} WHERE tenant = {m} AND subscription_id = {m} AND notification_id = {m}"
    for dialect, m in _MARKS.items()
}


def store(conn: Connection, items: list[Pending]) -> None:
    """Add ``items`` in the caller's transaction; ones already there (a redelivered event) are kept as they are."""
    if items:
        conn.exec_driver_sql(_STORE[conn.dialect.name], items)  # Pending is the tuple of a row


def remove(conn: Connection, keys: Iterable[tuple[str, str, str]]) -> None:
    """Delete delivered (or given up) notifications by (tenant, subscription id, notification id)."""
    params = list(keys)
    if params:
        conn.exec_driver_sql(_REMOVE[conn.dialect.name], params)


def remove_subscription(conn: Connection, tenant: str, subscription_id: str) -> None:
    """Delete every pending notification of one subscription."""
    conn.execute(delete(table).where(table.c.tenant == tenant, table.c.subscription_id == subscription_id))


def load(rt: Runtime) -> dict[tuple[str, str], list[Pending]]:
    """Everything pending, by (tenant, subscription id), each list in sending order."""
    stmt = select(table).order_by(table.c.tenant, table.c.subscription_id, table.c.seq)
    with rt.db.connect() as conn:
        rows = conn.execute(stmt).all()
    out: dict[tuple[str, str], list[Pending]] = {}
    for key, group in itertools.groupby(rows, key=lambda r: (r.tenant, r.subscription_id)):
        out[key] = [Pending(**r._mapping) for r in group]
    return out


def count(rt: Runtime) -> int:
    """How many notifications are pending (all tenants)."""
    with rt.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
