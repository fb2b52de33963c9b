"""Use cases of the iot package: provisioning, dead letters and their replay, device health.

Ingest itself is :func:`cityos.iot.ingest.ingest`; commands are in :mod:`cityos.iot.commands`.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from cityos import context as hub
from cityos.auth import EVERYTHING, Scope
from cityos.context import BadRequestData, check_entity_id, core_term_map, parse_entity
from cityos.core.timefmt import now_iso
from cityos.errors import Forbidden
from cityos.iot import store
from cityos.iot.directory import directory
from cityos.iot.errors import (
    DeadLetterNotFound,
    DeviceConflict,
    DeviceNotFound,
    GroupNotFound,
    InvalidDevice,
    OtherDepartment,
)
from cityos.iot.ingest import ingest
from cityos.iot.models import DeadLetter, Device, DeviceGroup, Health, Measure, Message, Outcome, sees
from cityos.iot.schemas import (
    DeviceCreate,
    DeviceGroupCreate,
    DeviceUpdate,
    HealthSummaryPublic,
    MeasureIn,
    StateCounts,
)
from cityos.runtime import Runtime

# --- scope -------------------------------------------------------------------------------------------


def _check_tenant(scope: Scope, tenant: str) -> None:
    if not scope.sees_tenant(tenant):
        raise Forbidden(f"this token is limited to tenant '{scope.tenant}' and may not use tenant '{tenant}'")


def _check_department(scope: Scope, department: str, what: str) -> None:
    if not scope.sees_department(department):
        raise OtherDepartment(
            f"{what} department '{department}', but this token acts for department '{scope.department}': "
            "use your own department, or ask an operator"
        )


def _narrow(scope: Scope, tenant: str | None) -> tuple[bool, str | None]:
    """(whether anything can match, the tenant to filter on) for a query asking for ``tenant``."""
    if scope.tenant is None:
        return True, tenant
    return tenant in (None, scope.tenant), scope.tenant


# --- groups ------------------------------------------------------------------------------------------


def create_group(rt: Runtime, spec: DeviceGroupCreate, *, scope: Scope = EVERYTHING) -> DeviceGroup:
    """Create a device group. Within a scope, only for its tenant (the default) and department."""
    group = DeviceGroup(
        apikey=spec.apikey or secrets.token_urlsafe(18),
        tenant=spec.tenant or scope.tenant or rt.settings.default_tenant,
        name=spec.name,
        department=spec.department,
        created_at=now_iso(),
    )
    _check_tenant(scope, group.tenant)
    _check_department(scope, group.department, "the group would belong to")
    try:
        rt.db.run_write(lambda conn: store.insert_group(conn, group))
    except IntegrityError:
        raise DeviceConflict(f"a device group with API key {group.apikey!r} exists already") from None
    return group


def list_groups(rt: Runtime, tenant: str | None = None, *, scope: Scope = EVERYTHING) -> list[DeviceGroup]:
    """The device groups (of one tenant if given) within the scope."""
    possible, tenant = _narrow(scope, tenant)
    if not possible:
        return []
    with rt.db.connect() as conn:
        return store.list_groups(conn, tenant, scope.department)


def get_group(rt: Runtime, apikey: str, *, scope: Scope = EVERYTHING) -> DeviceGroup:
    """A device group; one outside the scope is not found, as if absent."""
    with rt.db.connect() as conn:
        group = store.get_group(conn, apikey)
    if group is None or not sees(scope, group):
        raise GroupNotFound(f"there is no device group with API key {apikey!r}")
    return group


def delete_group(rt: Runtime, apikey: str, *, scope: Scope = EVERYTHING) -> None:
    """Delete an empty device group; one outside the scope is not found."""

    def job(conn: Any) -> int:
        group = store.get_group(conn, apikey)
        if group is None or not sees(scope, group):
            return 0
        if store.count_devices_in_group(conn, apikey):
            raise DeviceConflict(f"device group {apikey!r} still has devices: remove them first")
        return store.delete_group(conn, apikey)

    if not rt.db.run_write(job):
        raise GroupNotFound(f"there is no device group with API key {apikey!r}")


# --- devices -----------------------------------------------------------------------------------------


def _measures(spec: dict[str, MeasureIn]) -> dict[str, Measure]:
    return {name: Measure(m.attr, m.kind, m.unitCode, m.min, m.max) for name, m in spec.items()}


def provision(rt: Runtime, specs: list[DeviceCreate], *, scope: Scope = EVERYTHING) -> list[Device]:
    """Create or replace devices, and the NGSI-LD entities they feed and mirror them.

    A device that exists already is replaced (its health is kept). All or nothing: an unknown
    group key or a repeated id refuses the whole list. Within a scope, devices go only into the
    scope's groups, for its department, and replace only devices within it (else 403).
    """
    ids = [s.device_id for s in specs]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise InvalidDevice(f"device ids given more than once: {', '.join(twice[:5])}")
    now = now_iso()
    groups: dict[str, DeviceGroup] = {}
    with rt.db.connect() as conn:
        for key in {s.apikey for s in specs}:
            g = store.get_group(conn, key)
            if g is None or not scope.sees_tenant(g.tenant):
                raise GroupNotFound(f"there is no device group with API key {key!r}: create the group first")
            _check_department(scope, g.department, f"device group {key!r} belongs to")
            groups[key] = g
        owners = store.device_owners(conn, ids)
    existing = set(owners)
    for device_id, (tenant, department) in sorted(owners.items()):
        taken = f"device id {device_id!r} is taken by a device of another"
        if not scope.sees_tenant(tenant):
            raise Forbidden(f"{taken} tenant: choose another id")
        if not scope.sees_department(department):
            raise OtherDepartment(f"{taken} department: choose another id")
    devices = []
    for s in specs:
        g = groups[s.apikey]
        if s.department is not None:
            _check_department(scope, s.department, f"device {s.device_id!r} would belong to")
        entity_id = s.entity_id or f"urn:ngsi-ld:{s.entity_type}:{s.device_id}"
        try:
            check_entity_id(entity_id, "entity_id")
        except BadRequestData as exc:
            raise InvalidDevice(f"device {s.device_id!r}: {exc.detail}") from None
        devices.append(
            Device(
                device_id=s.device_id,
                apikey=s.apikey,
                tenant=g.tenant,
                device_type=s.device_type,
                entity_id=entity_id,
                entity_type=s.entity_type,
                department=s.department or g.department,
                measures=_measures(s.measures),
                protocol=s.protocol,
                timeout_s=s.timeout_s,
                location=(s.location.lon, s.location.lat) if s.location else None,
                grid=s.grid,
                unit=s.unit,
                created_at=now,
                updated_at=now,
            )
        )
    _claim(rt, devices, by_department=scope.department is not None)
    _mirror(rt, devices)

    def job(conn: Any) -> None:
        store.insert_devices(conn, [d for d in devices if d.device_id not in existing])
        store.update_devices(conn, [d for d in devices if d.device_id in existing])

    rt.db.run_write(job)
    found = directory(rt)
    for d in devices:
        found.put(d)
    return devices


def _claim(rt: Runtime, devices: list[Device], *, by_department: bool) -> None:
    """The entities a device feeds and mirrors become its department's (its data source, 一数一源). One
    another department keeps refuses the whole list; the city's are adopted when an operator provisions
    (a department's own token may not take over an entity the city keeps: it would then change it)."""
    by_owner: dict[tuple[str, str], list[str]] = {}
    for d in devices:
        by_owner.setdefault((d.tenant, d.department), []).extend((d.entity_id, d.device_entity_id))
    for (tenant, department), ids in by_owner.items():
        for entity_id, keeper in sorted(hub.keepers(rt, tenant, ids).items()):
            if keeper is not None and keeper != department:
                raise OtherDepartment(
                    f"entity {entity_id} is kept by department {keeper!r}: a device of department "
                    f"{department!r} may not feed it; choose another entity_id"
                )
            if keeper is None and by_department:
                raise OtherDepartment(
                    f"entity {entity_id} is kept by the city: an operator provisions a device that feeds it "
                    "(and so hands it to the device's department), or choose another entity_id"
                )
    for (tenant, department), ids in by_owner.items():
        hub.adopt(rt, tenant, ids, department)


def _mirror(rt: Runtime, devices: list[Device]) -> None:
    """The Device entity of each device, and a link to it on the entity it feeds (created if absent)."""
    tm = core_term_map()
    now = now_iso()
    by_owner: dict[tuple[str, str], list[tuple[str, hub.Mutation]]] = {}
    for d in devices:
        mirror: dict[str, Any] = {
            "id": d.device_entity_id,
            "type": "Device",
            "deviceCategory": [d.device_type],
            "controlledProperty": sorted({m.attr for m in d.measures.values()}),
            "owner": d.department,
            "controlledAsset": {"type": "Relationship", "object": d.entity_id},
        }
        thing: dict[str, Any] = {
            "id": d.entity_id,
            "type": d.entity_type,
            "refDevice": {"type": "Relationship", "object": d.device_entity_id},
        }
        if d.location:
            point = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": list(d.location)}}
            mirror["location"] = point
        for body in (mirror, thing):
            parsed = parse_entity(body, tm, now=now)
            by_owner.setdefault((d.tenant, d.department), []).append((body["id"], hub.m_merge(parsed, create=True)))
    for (tenant, department), ops in by_owner.items():
        for outcome in hub.apply(rt, tenant, ops, creates=True, writer=hub.Writer(department)):
            if outcome.error is not None:
                raise InvalidDevice(f"the device's entities cannot be written: {outcome.error.detail}")


def get_device(rt: Runtime, device_id: str, *, scope: Scope = EVERYTHING) -> tuple[Device, Health]:
    """A device with its health; one outside the scope is not found, as if absent."""
    with rt.db.connect() as conn:
        device = store.get_device(conn, device_id)
        health = store.get_health(conn, device_id)
    if device is None or health is None or not sees(scope, device):
        raise DeviceNotFound(f"there is no device {device_id!r}")
    return device, health


def update_device(rt: Runtime, device_id: str, patch: DeviceUpdate, *, scope: Scope = EVERYTHING) -> Device:
    """Change a device within the scope (it cannot be given to another department from within one)."""
    device, _ = get_device(rt, device_id, scope=scope)
    if patch.department is not None:
        _check_department(scope, patch.department, f"device {device_id!r} would belong to")
    changes: dict[str, Any] = {k: v for k, v in patch.model_dump(exclude_unset=True).items() if k != "location"}
    if "measures" in changes:
        changes["measures"] = _measures(patch.measures or {})
    if "location" in patch.model_fields_set:
        changes["location"] = (patch.location.lon, patch.location.lat) if patch.location else None
    updated = replace(device, **changes, updated_at=now_iso())
    _mirror(rt, [updated])
    rt.db.run_write(lambda conn: store.update_devices(conn, [updated]))
    directory(rt).put(updated)
    return updated


def remove_device(rt: Runtime, device_id: str, *, scope: Scope = EVERYTHING) -> None:
    """Remove a device (its entities and their history stay: they are the city's record).

    One outside the scope is not found."""

    def job(conn: Any) -> int:
        device = store.get_device(conn, device_id)
        if device is None or not sees(scope, device):
            return 0
        return store.delete_device(conn, device_id)

    if not rt.db.run_write(job):
        raise DeviceNotFound(f"there is no device {device_id!r}")
    directory(rt).forget(device_id)


def list_devices(
    rt: Runtime, *, scope: Scope = EVERYTHING, tenant: str | None = None, **filters: Any
) -> tuple[list[tuple[Device, Health]], int]:
    """Devices with their health, filtered (see :func:`store.list_devices`), within the scope."""
    possible, tenant = _narrow(scope, tenant)
    if not possible:
        return [], 0
    with rt.db.connect() as conn:
        return store.list_devices(conn, tenant=tenant, department=scope.department, **filters)


def existing_device_ids(rt: Runtime, device_ids: list[str]) -> set[str]:
    """Which of these devices are provisioned."""
    with rt.db.connect() as conn:
        return store.existing_device_ids(conn, device_ids)


def health_summary(rt: Runtime, tenant: str | None = None, *, scope: Scope = EVERYTHING) -> HealthSummaryPublic:
    """Online / offline / never-seen counts per device type and per grid, of the devices within the scope."""
    summary = HealthSummaryPublic(total=StateCounts(), byType={}, byGrid={})
    possible, tenant = _narrow(scope, tenant)
    with rt.db.connect() as conn:
        rows = store.health_counts(conn, tenant, scope.department) if possible else []
    for device_type, grid, online, n in rows:
        by_type = summary.byType.setdefault(device_type, StateCounts())
        by_grid = summary.byGrid.setdefault(grid or "-", StateCounts())
        for counts in (by_type, by_grid, summary.total):
            counts.add(online, n)
    return summary


# --- dead letters ------------------------------------------------------------------------------------


def list_dead_letters(rt: Runtime, *, scope: Scope = EVERYTHING, **filters: Any) -> tuple[list[DeadLetter], int]:
    """Dead letters, newest first (see :func:`store.list_dead_letters`). Within a limited scope,
    only those whose API key is the key of a group within it: unknown keys are left out."""
    keys_of = None if scope.unlimited else (scope.tenant, scope.department)
    with rt.db.connect() as conn:
        return store.list_dead_letters(conn, keys_of=keys_of, **filters)


def get_dead_letter(rt: Runtime, letter_id: str, *, scope: Scope = EVERYTHING) -> DeadLetter:
    """One dead letter; one whose API key is not of a group within the scope is not found."""
    with rt.db.connect() as conn:
        letter = store.get_dead_letter(conn, letter_id)
        group = store.get_group(conn, letter.apikey) if letter is not None and not scope.unlimited else None
    if letter is None or not (scope.unlimited or (group is not None and sees(scope, group))):
        raise DeadLetterNotFound(f"there is no dead letter {letter_id!r}: `cityos deadletters list` shows them")
    return letter


def replay(rt: Runtime, letter_id: str, *, scope: Scope = EVERYTHING) -> Outcome:
    """Take a dead letter in again as it first arrived (after the device was provisioned or its
    range fixed). Accepted: it is marked replayed. Rejected again: a new dead letter says why."""
    letter = get_dead_letter(rt, letter_id, scope=scope)
    if letter.replayed_at is not None:
        raise DeviceConflict(f"dead letter {letter_id} was replayed already at {letter.replayed_at}")
    directory(rt).reload()  # the fix that motivates a replay may have been made by another process
    msg = Message(
        transport=letter.transport,
        apikey=letter.apikey,
        device_id=letter.device_id,
        fmt=letter.fmt,
        payload=letter.payload,
        received_at=letter.received_at,
        topic=letter.topic,
    )
    outcome = ingest(rt, [msg])[0]
    if outcome.accepted:
        at = now_iso()
        rt.db.run_write(lambda conn: store.mark_replayed(conn, letter_id, at))
    return outcome
