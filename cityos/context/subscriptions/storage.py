"""Subscriptions in ``context_subscriptions``: insert, read, list, replace, delete, delivery status."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from cityos.bus import Event
from cityos.context.errors import (
    AlreadyExists,
    BadRequestData,
    ResourceNotFound,
)
from cityos.context.governance import ReadCaller
from cityos.context.subscriptions.model import ACTIVE, StoredSubscription, Subscription
from cityos.context.tables import subscriptions as table
from cityos.core.addresses import refusal
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime


def _row(r: Any) -> StoredSubscription:
    return StoredSubscription(**{k: r._mapping[k] for k in StoredSubscription.__dataclass_fields__})


def check_endpoint(rt: Runtime, sub: Subscription) -> None:
    """BadRequestData when notifications would go to a private or local address the operator has not allowed
    (a host that does not resolve yet passes: delivery checks again)."""
    host, port = sub.endpoint_address()
    why = refusal(host, port, rt.settings.notify_networks)
    if why is not None and "resolved" not in why:
        raise BadRequestData(
            f"'notification.endpoint.uri': {why}: cityos notifies public addresses, and the private networks "
            "its operator lists in CITYOS_NOTIFY_ALLOWED_NETWORKS"
        )


def insert_subscription(
    rt: Runtime, tenant: str, sub: Subscription, reader: ReadCaller | None = None
) -> StoredSubscription:
    """Store a new subscription; AlreadyExists when its id is taken in this tenant, BadRequestData when its
    endpoint is an address notifications may not go to. ``reader``: the department (and the scenario it
    names) that makes it, whose rules its notifications follow; None: the city's, notified as stored."""
    check_endpoint(rt, sub)
    now = now_iso()
    made_by: dict[str, str | None] = {}
    if reader is not None:
        made_by = {"principal": reader.principal, "department": reader.department}
        made_by |= {"scenario": reader.scenario, "purpose": reader.purpose}
    values = {
        **made_by,
        "tenant": tenant,
        "id": sub.id,
        "body": sub.body,
        "context": sub.context,
        "is_active": sub.is_active,
        "status": ACTIVE,
        "times_sent": 0,
        "failures_in_a_row": 0,
        "created_at": now,
        "modified_at": now,
    }

    def job(conn: Any) -> bool:
        taken = conn.execute(select(table.c.id).where(table.c.tenant == tenant, table.c.id == sub.id)).first()
        if taken:
            return False
        conn.execute(insert(table).values(**values))
        return True

    if not rt.db.run_write(job):
        raise AlreadyExists(f"subscription {sub.id} already exists", instance=sub.id)
    announce(rt, tenant, "created", sub.id)
    return get_subscription(rt, tenant, sub.id)


def get_subscription(rt: Runtime, tenant: str, sub_id: str) -> StoredSubscription:
    """One stored subscription; ResourceNotFound when there is none with this id."""
    with rt.db.connect() as conn:
        r = conn.execute(select(table).where(table.c.tenant == tenant, table.c.id == sub_id)).first()
    if r is None:
        raise ResourceNotFound(f"subscription {sub_id} does not exist", instance=sub_id)
    return _row(r)


def list_subscriptions(
    rt: Runtime, tenant: str | None, *, limit: int | None = None, offset: int = 0
) -> tuple[list[StoredSubscription], int]:
    """A page of a tenant's subscriptions (all tenants' when ``tenant`` is None) and their total."""
    where = [] if tenant is None else [table.c.tenant == tenant]
    with rt.db.connect() as conn:
        stmt = select(table).where(*where).order_by(table.c.tenant, table.c.created_at, table.c.id).offset(offset)
        rows = conn.execute(stmt if limit is None else stmt.limit(limit)).all()
        total = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    return [_row(r) for r in rows], int(total)


def replace_subscription(rt: Runtime, tenant: str, sub: Subscription, *, resume: bool) -> StoredSubscription:
    """Store a changed body; ``resume`` makes a failed or paused subscription active again."""
    check_endpoint(rt, sub)
    values: dict[str, Any] = {"body": sub.body, "is_active": sub.is_active, "modified_at": now_iso()}
    if resume:
        values.update(status=ACTIVE, failures_in_a_row=0)

    def job(conn: Any) -> int:
        stmt = update(table).where(table.c.tenant == tenant, table.c.id == sub.id).values(**values)
        return int(conn.execute(stmt).rowcount)

    if not rt.db.run_write(job):
        raise ResourceNotFound(f"subscription {sub.id} does not exist", instance=sub.id)
    announce(rt, tenant, "updated", sub.id)
    return get_subscription(rt, tenant, sub.id)


def delete_subscription(rt: Runtime, tenant: str, sub_id: str) -> None:
    """Delete a subscription; ResourceNotFound when there is none with this id."""

    def job(conn: Any) -> int:
        return int(conn.execute(delete(table).where(table.c.tenant == tenant, table.c.id == sub_id)).rowcount)

    if not rt.db.run_write(job):
        raise ResourceNotFound(f"subscription {sub_id} does not exist", instance=sub_id)
    announce(rt, tenant, "deleted", sub_id)


def announce(rt: Runtime, tenant: str, change: str, sub_id: str) -> None:
    """Tell notifiers (in this process or a worker) that a subscription changed, after the commit."""
    rt.bus.publish([Event(f"subscription.{change}", sub_id, {"id": sub_id}, tenant=tenant)])


_STATUS_COLUMNS = frozenset(("times_sent", "last_notification", "last_success", "last_failure", "failures_in_a_row",
                             "status"))  # fmt: skip
_MARKS = {"sqlite": "?", "postgresql": "%s"}


def write_delivery_status(conn: Any, status: Mapping[tuple[str, str], Mapping[str, Any]]) -> None:
    """Write delivery status columns (times_sent, last_*, failures_in_a_row, status) of subscriptions by (tenant,
    id), in the caller's transaction: one executemany per set of columns written, as a busy notifier writes
    those of hundreds of subscriptions a second (as SQL text through the driver: SQLAlchemy's work on each row's
    parameters cost more than the row's update)."""
    by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for (tenant, sub_id), values in status.items():
        columns = tuple(sorted(values))
        by_columns.setdefault(columns, []).append((*(values[c] for c in columns), tenant, sub_id))
    for columns, rows in by_columns.items():
        conn.exec_driver_sql(_status_update(conn.dialect.name, columns), rows)


@cache  # a few column sets occur (success, failure, failed): one statement each, built once
def _status_update(dialect: str, columns: tuple[str, ...]) -> str:
    unknown = set(columns) - _STATUS_COLUMNS
    if unknown:  # the names go into the statement's text
        raise ValueError(f"not delivery status columns: {sorted(unknown)}")
    m = _MARKS[dialect]
    sets = ", ".join(f"{c} = {m}" for c in columns)
    return f"UPDATE {table.name} SET {sets} WHERE tenant = {m} AND id = {m}"
