"""The notification outbox (``context_notification_outbox``): what was matched and is still to be sent.

The notifier stores a batch of matched notifications in one transaction before it acknowledges the
bus events they came from, and deletes each once its receiver took it (or its subscription failed or
was deleted). A notifier that starts sends what is left, so a crash or a kill loses nothing: at
worst a notification goes out twice, with the same notification id.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from cityos.context.tables import notification_outbox as table
from cityos.runtime import Runtime

# Notification ids are uuid5 names in this namespace, so that the same event matched again after a
# redelivery gives the same id (and the same outbox row).
_NAMESPACE = uuid.UUID("6f1c2a9e-58a4-4d4e-9a55-2b7f0c3d1e01")


@dataclass(frozen=True)
class Pending:
    """One matched notification of one entity for one subscription."""

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
    return f"urn:ngsi-ld:Notification:{uuid.uuid5(_NAMESPACE, f'{event_id} {tenant} {subscription_id}')}"


def batch_id(items: Iterable[Pending]) -> str:
    """The id of one notification carrying several coalesced ones: the same items give the same id."""
    keys = sorted(p.notification_id for p in items)
    if len(keys) == 1:
        return keys[0]
    return f"urn:ngsi-ld:Notification:{uuid.uuid5(_NAMESPACE, ' '.join(keys))}"


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


def _insert_ignoring_duplicates(conn: Connection) -> object:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def store(conn: Connection, items: list[Pending]) -> None:
    """Add ``items`` in the caller's transaction; ones already there (a redelivered event) are kept as they are."""
    if not items:
        return
    rows = [
        {
            "tenant": p.tenant,
            "subscription_id": p.subscription_id,
            "notification_id": p.notification_id,
            "seq": p.seq,
            "entity_id": p.entity_id,
            "entity": p.entity,
            "event_time": p.event_time,
        }
        for p in items
    ]
    conn.execute(_insert_ignoring_duplicates(conn), rows)  # type: ignore[call-overload]


_DELETE_ONE = delete(table).where(
    and_(
        table.c.tenant == bindparam("t"),
        table.c.subscription_id == bindparam("s"),
        table.c.notification_id == bindparam("n"),
    )
)


def remove(conn: Connection, keys: Iterable[tuple[str, str, str]]) -> None:
    """Delete delivered (or given up) notifications by (tenant, subscription id, notification id)."""
    params = [{"t": t, "s": s, "n": n} for t, s, n in keys]
    if params:
        conn.execute(_DELETE_ONE, params)


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
