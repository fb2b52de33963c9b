"""SQL of the iot package: groups, devices and their health, dead letters, commands."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from sys import intern
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Select, and_, delete, func, insert, or_, select, update

from cityos.iot.models import Command, DeadLetter, Device, DeviceGroup, Health, Measure
from cityos.iot.tables import commands, dead_letters, device_groups, devices

# --- groups ------------------------------------------------------------------------------------------


def _group(row: Any) -> DeviceGroup:
    return DeviceGroup(row.apikey, row.tenant, row.name, row.department, row.created_at)


def get_group(conn: Connection, apikey: str) -> DeviceGroup | None:
    row = conn.execute(select(device_groups).where(device_groups.c.apikey == apikey)).first()
    return _group(row) if row else None


def _of_groups(q: Select[Any], tenant: str | None, department: str | None) -> Select[Any]:
    """``q`` narrowed to the groups of this tenant and department (None: any)."""
    if tenant is not None:
        q = q.where(device_groups.c.tenant == tenant)
    if department is not None:
        q = q.where(device_groups.c.department == department)
    return q


def list_groups(conn: Connection, tenant: str | None = None, department: str | None = None) -> list[DeviceGroup]:
    q = _of_groups(select(device_groups).order_by(device_groups.c.apikey), tenant, department)
    return [_group(r) for r in conn.execute(q)]


def insert_group(conn: Connection, g: DeviceGroup) -> None:
    conn.execute(
        insert(device_groups).values(
            apikey=g.apikey, tenant=g.tenant, name=g.name, department=g.department, created_at=g.created_at
        )
    )


def delete_group(conn: Connection, apikey: str) -> int:
    return conn.execute(delete(device_groups).where(device_groups.c.apikey == apikey)).rowcount


def count_devices_in_group(conn: Connection, apikey: str) -> int:
    return conn.execute(select(func.count()).select_from(devices).where(devices.c.apikey == apikey)).scalar_one()


# --- devices -----------------------------------------------------------------------------------------


# Devices of one kind share one measure mapping: the ingest's directory holds one copy of each
# mapping, not one per device (tens of megabytes at 50,000 devices). Mappings are never changed in place.
_MAPPINGS: dict[bytes, dict[str, Measure]] = {}


def _mapping(raw: dict[str, Any] | None) -> dict[str, Measure]:
    key = orjson.dumps(raw or {}, option=orjson.OPT_SORT_KEYS)
    found = _MAPPINGS.get(key)
    if found is None:
        if len(_MAPPINGS) > 10_000:
            _MAPPINGS.clear()
        found = _MAPPINGS[key] = {
            name: Measure(m["attr"], m.get("kind", "number"), m.get("unitCode"), m.get("min"), m.get("max"))
            for name, m in (raw or {}).items()
        }
    return found


def _shared(text: str | None) -> str | None:
    """One copy of a value many devices repeat (a grid, a unit)."""
    return None if text is None else intern(text)


def _device(row: Any) -> Device:
    return Device(
        device_id=row.device_id,
        apikey=intern(row.apikey),
        tenant=intern(row.tenant),
        device_type=intern(row.device_type),
        entity_id=row.entity_id,
        entity_type=intern(row.entity_type),
        department=intern(row.department),
        measures=_mapping(row.measures),
        protocol=intern(row.protocol),  # type: ignore[arg-type]  # stored from a checked Protocol
        timeout_s=row.timeout_s,
        location=(row.lon, row.lat) if row.lon is not None and row.lat is not None else None,
        grid=_shared(row.grid),
        unit=_shared(row.unit),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _device_values(d: Device) -> dict[str, Any]:
    return {
        "device_id": d.device_id,
        "apikey": d.apikey,
        "tenant": d.tenant,
        "device_type": d.device_type,
        "entity_id": d.entity_id,
        "entity_type": d.entity_type,
        "department": d.department,
        "measures": {name: m.as_dict() for name, m in d.measures.items()},
        "protocol": d.protocol,
        "timeout_s": d.timeout_s,
        "lon": d.location[0] if d.location else None,
        "lat": d.location[1] if d.location else None,
        "grid": d.grid,
        "unit": d.unit,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    }


def get_device(conn: Connection, device_id: str) -> Device | None:
    row = conn.execute(select(devices).where(devices.c.device_id == device_id)).first()
    return _device(row) if row else None


def existing_device_ids(conn: Connection, ids: list[str]) -> set[str]:
    return set(device_owners(conn, ids))


def device_owners(conn: Connection, ids: list[str]) -> dict[str, tuple[str, str]]:
    """The devices among ``ids`` that exist: device id -> (tenant, department)."""
    found: dict[str, tuple[str, str]] = {}
    for i in range(0, len(ids), 500):
        part = ids[i : i + 500]
        q = select(devices.c.device_id, devices.c.tenant, devices.c.department).where(devices.c.device_id.in_(part))
        found.update((r.device_id, (r.tenant, r.department)) for r in conn.execute(q))
    return found


def insert_devices(conn: Connection, items: list[Device]) -> None:
    if items:
        conn.execute(insert(devices), [_device_values(d) for d in items])


def update_devices(conn: Connection, items: list[Device]) -> None:
    for d in items:
        values = _device_values(d)
        del values["created_at"]
        conn.execute(update(devices).where(devices.c.device_id == d.device_id).values(**values))


def delete_device(conn: Connection, device_id: str) -> int:
    conn.execute(delete(commands).where(commands.c.device_id == device_id))
    return conn.execute(delete(devices).where(devices.c.device_id == device_id)).rowcount


def list_devices(
    conn: Connection,
    *,
    tenant: str | None = None,
    department: str | None = None,
    device_type: str | None = None,
    grid: str | None = None,
    apikey: str | None = None,
    online: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[tuple[Device, Health]], int]:
    conds: list[ColumnElement[bool]] = []
    for col, value in (
        (devices.c.tenant, tenant),
        (devices.c.department, department),
        (devices.c.device_type, device_type),
        (devices.c.grid, grid),
        (devices.c.apikey, apikey),
    ):
        if value is not None:
            conds.append(col == value)
    if online is not None:
        conds.append(
            devices.c.online.is_(True) if online else or_(devices.c.online.is_(False), devices.c.online.is_(None))
        )
    where = and_(*conds) if conds else None
    q = select(devices).order_by(devices.c.device_id).limit(limit).offset(offset)
    n = select(func.count()).select_from(devices)
    if where is not None:
        q, n = q.where(where), n.where(where)
    rows = list(conn.execute(q))
    return [(_device(r), _health(r)) for r in rows], conn.execute(n).scalar_one()


def devices_changed_since(conn: Connection, since: str) -> list[Device]:
    return [_device(r) for r in conn.execute(select(devices).where(devices.c.updated_at > since))]


def all_devices(conn: Connection) -> list[Device]:
    return [_device(r) for r in conn.execute(select(devices))]


def all_device_ids(conn: Connection) -> set[str]:
    return set(conn.execute(select(devices.c.device_id)).scalars())


# --- health ------------------------------------------------------------------------------------------


def _health(row: Any) -> Health:
    return Health(row.device_id, row.online, row.last_seen, row.battery, row.signal)


def get_health(conn: Connection, device_id: str) -> Health | None:
    row = conn.execute(
        select(devices.c.device_id, devices.c.online, devices.c.last_seen, devices.c.battery, devices.c.signal).where(
            devices.c.device_id == device_id
        )
    ).first()
    return _health(row) if row else None


_SEEN = {  # PostgreSQL: the whole flush in one statement; o is the row as it was, for who came online
    "postgresql": "WITH v AS (SELECT * FROM json_to_recordset(%s::json) AS v(d text, s text, b float8, g float8)) "
    "UPDATE iot_devices AS t SET last_seen = GREATEST(t.last_seen, v.s), online = true, "
    "battery = COALESCE(v.b, t.battery), signal = COALESCE(v.g, t.signal) "
    "FROM v, iot_devices AS o WHERE t.device_id = v.d AND o.device_id = v.d "
    "RETURNING t.device_id, o.online, t.last_seen",
    "sqlite": "SELECT device_id, online, last_seen FROM iot_devices "
    "WHERE device_id IN (SELECT value FROM json_each(?))",
}
_SEEN_SQLITE_UPDATE = (
    "UPDATE iot_devices SET last_seen = ?, online = 1, battery = coalesce(?, battery), "
    "signal = coalesce(?, signal) WHERE device_id = ?"
)


def record_seen(
    conn: Connection, seen: dict[str, tuple[str, float | None, float | None]]
) -> list[tuple[str, str | None]]:
    """Store when devices were last heard from (and battery, signal). Returns the devices that were
    not online before, with the time they were seen: they have just come online.

    A flush of thousands of devices (one a message at city scale) is one statement on PostgreSQL and
    two on SQLite (a read, then one ``executemany``), with no SQL compiled for it."""
    if not seen:
        return []
    if conn.dialect.name == "postgresql":
        doc = orjson.dumps([{"d": d, "s": at, "b": b, "g": g} for d, (at, b, g) in seen.items()]).decode()
        came = {d: last for d, was_online, last in conn.exec_driver_sql(_SEEN["postgresql"], (doc,)) if not was_online}
        return [(d, came[d]) for d in seen if d in came] if came else []  # in the order heard, as on SQLite
    ids = orjson.dumps(list(seen)).decode()
    came_online: list[tuple[str, str | None]] = []
    rows = []
    for device_id, was_online, last in conn.exec_driver_sql(_SEEN["sqlite"], (ids,)).fetchall():
        at, battery, signal = seen[device_id]  # a device removed meanwhile is not read, so not written
        latest = max(at, last) if last else at
        rows.append((latest, battery, signal, device_id))
        if not was_online:
            came_online.append((device_id, latest))
    if rows:
        conn.exec_driver_sql(_SEEN_SQLITE_UPDATE, rows)
    return came_online


def silent_devices(conn: Connection, now_ms_iso: dict[int, str]) -> list[tuple[str, str | None]]:
    """Online devices whose last message is older than their timeout: (device id, last seen).

    ``now_ms_iso`` maps each timeout in use (seconds) to the stored-form time before which a device
    with that timeout counts as silent.
    """
    out: list[tuple[str, str | None]] = []
    for timeout, cutoff in now_ms_iso.items():
        q = select(devices.c.device_id, devices.c.last_seen).where(
            devices.c.online.is_(True), devices.c.timeout_s == timeout, devices.c.last_seen < cutoff
        )
        out += [(r.device_id, r.last_seen) for r in conn.execute(q)]
    return out


def timeouts_in_use(conn: Connection) -> list[int]:
    return list(conn.execute(select(devices.c.timeout_s).distinct()).scalars())


def mark_offline(conn: Connection, device_ids: Iterable[str]) -> list[str]:
    """Mark devices offline; returns those that were online (another process may have done it)."""
    changed = []
    for device_id in device_ids:
        r = conn.execute(
            update(devices).where(devices.c.device_id == device_id, devices.c.online.is_(True)).values(online=False)
        )
        if r.rowcount:
            changed.append(device_id)
    return changed


def health_counts(
    conn: Connection, tenant: str | None = None, department: str | None = None
) -> list[tuple[str, str | None, bool | None, int]]:
    """(device type, grid, online, count) over all devices, or those of one tenant and/or department."""
    q = select(devices.c.device_type, devices.c.grid, devices.c.online, func.count()).group_by(
        devices.c.device_type, devices.c.grid, devices.c.online
    )
    if tenant is not None:
        q = q.where(devices.c.tenant == tenant)
    if department is not None:
        q = q.where(devices.c.department == department)
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(q)]


# --- dead letters ------------------------------------------------------------------------------------


def insert_dead_letters(conn: Connection, letters: list[DeadLetter]) -> None:
    if letters:
        conn.execute(insert(dead_letters), [asdict(x) for x in letters])


def _dead_letter(row: Any) -> DeadLetter:
    return DeadLetter(**{**row._mapping, "payload": bytes(row.payload)})  # PostgreSQL gives a memoryview


def get_dead_letter(conn: Connection, letter_id: str) -> DeadLetter | None:
    row = conn.execute(select(dead_letters).where(dead_letters.c.id == letter_id)).first()
    return _dead_letter(row) if row else None


def list_dead_letters(
    conn: Connection,
    *,
    reason_code: str | None = None,
    device_id: str | None = None,
    include_replayed: bool = False,
    keys_of: tuple[str | None, str | None] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[DeadLetter], int]:
    """Dead letters, newest first, and how many match in all.

    ``keys_of`` (tenant, department): only those whose API key is the key of a group of that
    tenant and department (None in either: any); dead letters with unknown keys are left out.
    """
    conds: list[ColumnElement[bool]] = []
    if keys_of is not None:
        conds.append(dead_letters.c.apikey.in_(_of_groups(select(device_groups.c.apikey), *keys_of)))
    if reason_code:
        conds.append(dead_letters.c.reason_code == reason_code)
    if device_id:
        conds.append(dead_letters.c.device_id == device_id)
    if not include_replayed:
        conds.append(dead_letters.c.replayed_at.is_(None))
    q = select(dead_letters).order_by(dead_letters.c.received_at.desc(), dead_letters.c.id).limit(limit).offset(offset)
    n = select(func.count()).select_from(dead_letters)
    if conds:
        q, n = q.where(and_(*conds)), n.where(and_(*conds))
    return [_dead_letter(r) for r in conn.execute(q)], conn.execute(n).scalar_one()


def mark_replayed(conn: Connection, letter_id: str, at: str) -> None:
    conn.execute(update(dead_letters).where(dead_letters.c.id == letter_id).values(replayed_at=at))


def dead_letter_counts(conn: Connection) -> list[tuple[str | None, str, int]]:
    """(device type, reason code, count) of dead letters not replayed."""
    q = (
        select(dead_letters.c.device_type, dead_letters.c.reason_code, func.count())
        .where(dead_letters.c.replayed_at.is_(None))
        .group_by(dead_letters.c.device_type, dead_letters.c.reason_code)
    )
    return [(r[0], r[1], r[2]) for r in conn.execute(q)]


# --- commands ----------------------------------------------------------------------------------------


def insert_command(conn: Connection, command: Command) -> None:
    conn.execute(insert(commands).values(**asdict(command)))


def get_command(conn: Connection, command_id: str) -> Command | None:
    row = conn.execute(select(commands).where(commands.c.id == command_id)).first()
    return Command(**row._mapping) if row else None


def list_commands(conn: Connection, device_id: str, limit: int = 50) -> list[Command]:
    q = select(commands).where(commands.c.device_id == device_id).order_by(commands.c.created_at.desc()).limit(limit)
    return [Command(**r._mapping) for r in conn.execute(q)]


def set_command_status(
    conn: Connection, command_id: str, status: str, *, only_from: tuple[str, ...], **values: Any
) -> bool:
    """Move a command to ``status`` if it is in one of ``only_from``; returns whether it moved."""
    r = conn.execute(
        update(commands)
        .where(commands.c.id == command_id, commands.c.status.in_(only_from))
        .values(status=status, **values)
    )
    return bool(r.rowcount)


def expire_commands(conn: Connection, now: str) -> list[str]:
    ids = list(
        conn.execute(
            select(commands.c.id).where(commands.c.status.in_(("pending", "sent")), commands.c.expires_at <= now)
        ).scalars()
    )
    if ids:
        conn.execute(
            update(commands)
            .where(commands.c.id.in_(ids), commands.c.status.in_(("pending", "sent")))
            .values(status="expired")
        )
    return ids
