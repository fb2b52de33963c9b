"""csourceSubscriptions (NGSI-LD v1.8, clauses 5.11 and 6.10-6.11) in ``context_csource_subscriptions``: a
subscription body as for entities (validated by cityos.context.subscriptions.parsing), whose entities,
watchedAttributes, q, csf and geoQ select registrations instead."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from cityos.context.csources.matching import Discovery
from cityos.context.entity import TermMap
from cityos.context.errors import AlreadyExists, BadRequestData, ResourceNotFound
from cityos.context.qlang import TName, parse_q
from cityos.context.subscriptions.model import EXPIRED, Subscription
from cityos.context.subscriptions.parsing import parse_subscription
from cityos.context.subscriptions.storage import check_endpoint
from cityos.context.tables import csource_subscriptions as table
from cityos.context.temporal.params import TimeRange, parse_time_range
from cityos.core.timefmt import normalize_ts, now_iso
from cityos.runtime import Runtime


@dataclass
class StoredCSourceSubscription:
    """A row of ``context_csource_subscriptions``."""

    tenant: str
    id: str
    body: dict[str, Any]
    context: Any
    is_active: bool
    times_sent: int
    times_failed: int
    last_notification: str | None
    last_success: str | None
    last_failure: str | None
    created_at: str
    modified_at: str

    def current_status(self, now: str | None = None) -> str:
        """active, paused or expired (expiresAt passed)."""
        expires = self.body.get("expiresAt")
        if isinstance(expires, str):
            try:
                if normalize_ts(expires) <= (now or now_iso()):
                    return EXPIRED
            except ValueError:
                pass
        return "active" if self.is_active else "paused"


def parse(body: Any, tm: TermMap, *, context: Any, future_only: bool) -> Subscription:
    """A csourceSubscription body validated as a subscription (clause 5.2.12), its temporalQ too."""
    sub = parse_subscription(body, tm, context=context, future_only=future_only)
    temporal_q(sub.body)
    return sub


def temporal_q(body: dict[str, Any]) -> TimeRange | None:
    """A temporalQ (clause 5.2.21): timerel, timeAt, endTimeAt and timeproperty, as a query's parameters."""
    tq = body.get("temporalQ")
    if tq is None:
        return None
    if not isinstance(tq, dict):
        raise BadRequestData("'temporalQ' must be an object with timerel, timeAt and optionally endTimeAt")
    try:
        return parse_time_range(tq.get("timerel"), tq.get("timeAt"), tq.get("endTimeAt"), tq.get("timeproperty"))
    except BadRequestData as exc:
        raise BadRequestData(f"'temporalQ': {exc.detail}") from None


def discoveries(sub: Subscription) -> list[Discovery]:
    """What registrations a subscription selects: one discovery per entity selector (any of them), with its
    watchedAttributes, q, csf and geoQ."""
    csf = parse_q(sub.body["csf"]) if isinstance(sub.body.get("csf"), str) else None
    time = temporal_q(sub.body)
    base = Discovery(
        attrs=sub.watched or frozenset(),
        q=sub.q,
        csf=csf,
        geo=sub.geo,
        time=time if time is not None and time.bounded else None,
        expand=sub.tm.expand,
    )
    if not sub.entities:
        return [base]
    return [
        replace(
            base,
            ids=(sel.id,) if sel.id is not None else (),
            id_pattern=sel.id_pattern,
            types=sel.type_expr if sel.type_expr is not None else TName(sel.type),
        )
        for sel in sub.entities
    ]


def _row(r: Any) -> StoredCSourceSubscription:
    return StoredCSourceSubscription(**{k: r._mapping[k] for k in StoredCSourceSubscription.__dataclass_fields__})


def insert_subscription(rt: Runtime, tenant: str, sub: Subscription) -> StoredCSourceSubscription:
    """Store a new csourceSubscription; AlreadyExists when its id is taken in this tenant."""
    check_endpoint(rt, sub)
    now = now_iso()
    values = {
        "tenant": tenant, "id": sub.id, "body": sub.body, "context": sub.context, "is_active": sub.is_active,
        "times_sent": 0, "times_failed": 0, "created_at": now, "modified_at": now,
    }  # fmt: skip

    def job(conn: Any) -> bool:
        if conn.execute(select(table.c.id).where(table.c.tenant == tenant, table.c.id == sub.id)).first():
            return False
        conn.execute(insert(table).values(**values))
        return True

    if not rt.db.run_write(job):
        raise AlreadyExists(f"csourceSubscription {sub.id} already exists", instance=sub.id)
    return get_subscription(rt, tenant, sub.id)


def get_subscription(rt: Runtime, tenant: str, sub_id: str) -> StoredCSourceSubscription:
    with rt.db.connect() as conn:
        r = conn.execute(select(table).where(table.c.tenant == tenant, table.c.id == sub_id)).first()
    if r is None:
        raise ResourceNotFound(f"csourceSubscription {sub_id} does not exist", instance=sub_id)
    return _row(r)


def list_subscriptions(
    rt: Runtime, tenant: str, *, limit: int | None = None, offset: int = 0
) -> tuple[list[StoredCSourceSubscription], int]:
    """A page of a tenant's csourceSubscriptions and their total."""
    where = table.c.tenant == tenant
    with rt.db.connect() as conn:
        stmt = select(table).where(where).order_by(table.c.created_at, table.c.id).offset(offset)
        rows = conn.execute(stmt if limit is None else stmt.limit(limit)).all()
        total = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
    return [_row(r) for r in rows], int(total)


def replace_subscription(rt: Runtime, tenant: str, sub: Subscription) -> StoredCSourceSubscription:
    check_endpoint(rt, sub)
    values = {"body": sub.body, "is_active": sub.is_active, "modified_at": now_iso()}

    def job(conn: Any) -> int:
        stmt = update(table).where(table.c.tenant == tenant, table.c.id == sub.id).values(**values)
        return int(conn.execute(stmt).rowcount)

    if not rt.db.run_write(job):
        raise ResourceNotFound(f"csourceSubscription {sub.id} does not exist", instance=sub.id)
    return get_subscription(rt, tenant, sub.id)


def delete_subscription(rt: Runtime, tenant: str, sub_id: str) -> None:
    def job(conn: Any) -> int:
        return int(conn.execute(delete(table).where(table.c.tenant == tenant, table.c.id == sub_id)).rowcount)

    if not rt.db.run_write(job):
        raise ResourceNotFound(f"csourceSubscription {sub_id} does not exist", instance=sub_id)


def record_delivery(rt: Runtime, tenant: str, sub_id: str, *, ok: bool, at: str) -> None:
    """Count one notification sent (or failed) at ``at``."""
    values: dict[str, Any] = {"times_sent": table.c.times_sent + 1, "last_notification": at}
    if ok:
        values["last_success"] = at
    else:
        values.update(last_failure=at, times_failed=table.c.times_failed + 1)
    rt.db.run_write(
        lambda conn: conn.execute(update(table).where(table.c.tenant == tenant, table.c.id == sub_id).values(**values))
    )
