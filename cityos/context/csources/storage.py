"""Registrations in ``context_csource_registrations``: insert, read, list, replace, delete."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update

from cityos.context import store
from cityos.context.csources.model import AUXILIARY, EXCLUSIVE, INCLUSIVE, REDIRECT, Registration, StoredRegistration
from cityos.context.csources.parsing import parse_registration
from cityos.context.errors import AlreadyExists, Conflict, ResourceNotFound
from cityos.context.subscriptions.matching import term_map_for
from cityos.context.tables import csource_registrations as table
from cityos.core.timefmt import now_iso
from cityos.runtime import Runtime

COUNT_SECONDS = 2.0  # how long a tenant's count of sources is trusted: another worker's change is seen by then


class SourceCounts:
    """Per runtime: how many inclusive or auxiliary registrations each tenant has, and when it was counted,
    so that a read asks the database only every COUNT_SECONDS (and at once after a change in this process)."""

    def __init__(self) -> None:
        self.counts: dict[str, tuple[float, int]] = {}
        self.lock = threading.Lock()


def has_sources(rt: Runtime, tenant: str) -> bool:
    """Whether the tenant has an inclusive or auxiliary registration (expired ones count: the caller then
    finds none live), from the cached count when it is fresh."""
    cache = rt.parts.get(SourceCounts, SourceCounts)
    now = time.monotonic()
    hit = cache.counts.get(tenant)
    if hit is not None and now - hit[0] < COUNT_SECONDS:
        return hit[1] > 0
    stmt = select(func.count()).where(table.c.tenant == tenant, table.c.mode.in_((INCLUSIVE, AUXILIARY)))
    with rt.db.connect() as conn:
        n = int(conn.execute(stmt).scalar_one())
    with cache.lock:
        cache.counts[tenant] = (now, n)
    return n > 0


def _forget_count(rt: Runtime, tenant: str) -> None:
    cache = rt.parts.find(SourceCounts)
    if cache is not None:
        with cache.lock:
            cache.counts.pop(tenant, None)


def _row(r: Any) -> StoredRegistration:
    return StoredRegistration(**{k: r._mapping[k] for k in StoredRegistration.__dataclass_fields__})


def registration_of(rt: Runtime, stored: StoredRegistration) -> Registration:
    """A stored registration parsed again, its names expanded in the @context it was made in."""
    return parse_registration(stored.body, term_map_for(rt, stored.context), context=stored.context)


def check_conflict(rt: Runtime, conn: Any, tenant: str, reg: Registration) -> None:
    """Conflict when an exclusive or redirect registration covers an entity this hub holds (NGSI-LD v1.8,
    clause 5.9.2.4): a redirect one any such entity, an exclusive one such an entity holding a registered
    attribute; or when it covers an entity and attribute an exclusive registration holds already (v1.9,
    clause 4.3.6.3). Only entities named by id can be told apart here."""
    if reg.mode not in (EXCLUSIVE, REDIRECT):
        return
    held = conn.execute(select(table).where(table.c.tenant == tenant, table.c.mode == EXCLUSIVE, table.c.id != reg.id))
    for other in (registration_of(rt, _row(r)) for r in held.all()):
        both = _overlap(reg, other)
        if both:
            raise Conflict(
                f"registration {other.id} holds {both} exclusively: no other exclusive or redirect registration "
                "may cover it",
                instance=reg.id,
            )
    for info in reg.information:
        for e in info.entities:
            if e.id is None:
                continue
            row = store.fetch_one(conn, tenant, e.id)
            if row is None or e.type not in row.types:
                continue
            if reg.mode == REDIRECT:
                raise Conflict(f"entity {e.id} is held here: a redirect registration cannot cover it", instance=reg.id)
            held = sorted(info.attributes & set(row.attrs))
            if held:
                raise Conflict(
                    f"entity {e.id} here already has {', '.join(held)}: an exclusive registration cannot cover it",
                    instance=reg.id,
                )


def _overlap(reg: Registration, other: Registration) -> str | None:
    """An entity id and attribute both registrations cover, as text; None when they cover none in common."""
    for info in reg.information:
        for o in other.information:
            attrs = (info.attributes & o.attributes) if info.attributes else o.attributes
            if not attrs:
                continue
            for e in info.entities:
                for oe in o.entities:
                    same = e.id == oe.id if e.id is not None else e.id_pattern is None or e.id_pattern.search(oe.id)
                    if same and e.type == oe.type:
                        return f"{oe.id} {sorted(attrs)[0]}"
    return None


def insert_registration(rt: Runtime, tenant: str, reg: Registration) -> StoredRegistration:
    """Store a new registration; AlreadyExists when its id is taken in this tenant, Conflict as
    :func:`check_conflict`."""
    now = now_iso()
    values = {
        "tenant": tenant,
        "id": reg.id,
        "body": reg.body,
        "context": reg.context,
        "mode": reg.mode,
        "endpoint": reg.endpoint,
        "expires_at": reg.expires_at,
        "created_at": now,
        "modified_at": now,
    }

    def job(conn: Any) -> bool:
        taken = conn.execute(select(table.c.id).where(table.c.tenant == tenant, table.c.id == reg.id)).first()
        if taken:
            return False
        check_conflict(rt, conn, tenant, reg)
        conn.execute(insert(table).values(**values))
        return True

    if not rt.db.run_write(job):
        raise AlreadyExists(f"context source registration {reg.id} already exists", instance=reg.id)
    _forget_count(rt, tenant)
    return get_registration(rt, tenant, reg.id)


def get_registration(rt: Runtime, tenant: str, reg_id: str) -> StoredRegistration:
    """One stored registration; ResourceNotFound when there is none with this id (or it has expired)."""
    with rt.db.connect() as conn:
        r = conn.execute(select(table).where(table.c.tenant == tenant, table.c.id == reg_id, _live())).first()
    if r is None:
        raise ResourceNotFound(f"context source registration {reg_id} does not exist", instance=reg_id)
    return _row(r)


def _live() -> Any:
    """Registrations not expired (NGSI-LD 5.2.9: an expired registration is no longer taken into account)."""
    return or_(table.c.expires_at.is_(None), table.c.expires_at > now_iso())


def list_registrations(rt: Runtime, tenant: str) -> list[StoredRegistration]:
    """A tenant's registrations that have not expired, oldest first."""
    with rt.db.connect() as conn:
        stmt = select(table).where(table.c.tenant == tenant, _live()).order_by(table.c.created_at, table.c.id)
        return [_row(r) for r in conn.execute(stmt).all()]


def replace_registration(rt: Runtime, tenant: str, reg: Registration) -> StoredRegistration:
    """Store a changed registration; ResourceNotFound when there is none with its id."""
    values = {
        "body": reg.body,
        "mode": reg.mode,
        "endpoint": reg.endpoint,
        "expires_at": reg.expires_at,
        "modified_at": now_iso(),
    }

    def job(conn: Any) -> int:
        check_conflict(rt, conn, tenant, reg)
        stmt = update(table).where(table.c.tenant == tenant, table.c.id == reg.id).values(**values)
        return int(conn.execute(stmt).rowcount)

    if not rt.db.run_write(job):
        raise ResourceNotFound(f"context source registration {reg.id} does not exist", instance=reg.id)
    _forget_count(rt, tenant)
    return get_registration(rt, tenant, reg.id)


def delete_registration(rt: Runtime, tenant: str, reg_id: str) -> StoredRegistration:
    """Delete a registration and answer what it was; ResourceNotFound when there is none with this id."""
    stored = get_registration(rt, tenant, reg_id)

    def job(conn: Any) -> int:
        return int(conn.execute(delete(table).where(table.c.tenant == tenant, table.c.id == reg_id)).rowcount)

    if not rt.db.run_write(job):
        raise ResourceNotFound(f"context source registration {reg_id} does not exist", instance=reg_id)
    _forget_count(rt, tenant)
    return stored
