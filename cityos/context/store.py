"""SQL for the context package: entity rows, their type and bounding-box index rows."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Select,
    Text,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from cityos.context.geo import size_class
from cityos.context.tables import entities, entity_geo, entity_types
from cityos.core.timefmt import now_iso

COLUMNS = (
    entities.c.pk,
    entities.c.id,
    entities.c.types,
    entities.c.scope,
    entities.c.attrs,
    entities.c.created_at,
    entities.c.modified_at,
    entities.c.owner,
    entities.c.expires_at,
)
# a reader of kept derived values reads them beside the state (cityos.context.tables: ``shadow``, ``version``)
SHADOW_COLUMNS = (*COLUMNS, entities.c.shadow, entities.c.version)


@dataclass
class EntityRow:
    pk: int | None
    id: str
    types: list[str]
    scope: list[str] | None
    attrs: dict[str, list[dict[str, Any]]]
    created_at: str
    modified_at: str
    owner: str | None = None  # the owning department (None: the city's); set when it is made, never by a change
    expires_at: str | None = None  # its expiresAt (NGSI-LD 4.22): past it the entity is not served
    # read only when asked (SHADOW_COLUMNS): the values derived from ``attrs`` kept beside them, and the row's
    # version (moved by every write of the state), under which a reader keeps what it derived (keep_shadows)
    shadow: Any = None
    version: int | None = None


GeoRow = tuple[str, str, tuple[float, float, float, float]]  # attr IRI, datasetId or "", bbox


def row_of(r: Any) -> EntityRow:
    """An entity row of a result of ``COLUMNS`` or ``SHADOW_COLUMNS`` (by position: ``attrs`` may be an
    expression there)."""
    if len(r) > len(COLUMNS):
        return EntityRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10])
    return EntityRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8])


# The hottest statements go to the driver directly: building and caching SQLAlchemy statements costs
# more than SQLite takes to run them (about half the time of a single-attribute PATCH).
_FETCH_ONE = {
    "sqlite": "SELECT pk, id, types, scope, attrs, created_at, modified_at, owner, expires_at FROM context_entities "
    "WHERE tenant = ? AND id = ?",
    "postgresql": "SELECT pk, id, types, scope, attrs, created_at, modified_at, owner, expires_at "
    "FROM context_entities WHERE tenant = %s AND id = %s",
}
_UPDATE = {
    "sqlite": "UPDATE context_entities SET types = ?, scope = ?, attrs = ?, modified_at = ?, created_at = ?, "
    "expires_at = ?, shadow = NULL, version = version + 1 WHERE pk = ?",
    "postgresql": "UPDATE context_entities SET types = %s::jsonb, scope = %s::jsonb, attrs = %s::jsonb, "
    "modified_at = %s, created_at = %s, expires_at = %s, shadow = NULL, version = version + 1 WHERE pk = %s",
}


def _json_in(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _json_out(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def fetch_many(conn: Connection, tenant: str, ids: Sequence[str], *, for_update: bool = False) -> dict[str, EntityRow]:
    """The stored entities among ``ids``, keyed by id."""
    if len(ids) == 1:
        sql = _FETCH_ONE[conn.dialect.name] + (" FOR UPDATE" if for_update else "")
        r = conn.exec_driver_sql(sql, (tenant, ids[0])).first()
        if r is None:
            return {}
        return {r[1]: _fetched(r)}
    out: dict[str, EntityRow] = {}
    base = _FETCH_ONE[conn.dialect.name].rsplit(" AND id = ", 1)[0]
    lock = " FOR UPDATE" if for_update else ""
    if conn.dialect.name == "postgresql":  # one statement whatever the count, its text the same each time
        order = " ORDER BY id" if for_update else ""  # locked in one order by every ingest process
        for r in conn.exec_driver_sql(f"{base} AND id = ANY(%s){order}{lock}", (tenant, list(ids))).fetchall():
            out[r[1]] = _fetched(r)
        return out
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        sql = f"{base} AND id IN ({', '.join(['?'] * len(chunk))}){lock}"
        for r in conn.exec_driver_sql(sql, (tenant, *chunk)).fetchall():
            out[r[1]] = _fetched(r)
    return out


def _fetched(r: Any) -> EntityRow:
    return EntityRow(r[0], r[1], _json_out(r[2]), _json_out(r[3]), _json_out(r[4]), r[5], r[6], r[7], r[8])


def fetch_one(conn: Connection, tenant: str, entity_id: str, *, for_update: bool = False) -> EntityRow | None:
    return fetch_many(conn, tenant, [entity_id], for_update=for_update).get(entity_id)


_INSERT = {
    "sqlite": (
        "INSERT INTO context_entities (pk, tenant, id, types, scope, attrs, created_at, modified_at, owner, "
        "expires_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "INSERT INTO context_entity_types (entity_pk, type, tenant) VALUES (?, ?, ?)",
        "INSERT INTO context_entity_geo (entity_pk, attr, dataset_id, tenant, min_x, min_y, max_x, max_y, size_class) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    "postgresql": (
        "INSERT INTO context_entities (pk, tenant, id, types, scope, attrs, created_at, modified_at, owner, "
        "expires_at, version) VALUES (%s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s)",
        "INSERT INTO context_entity_types (entity_pk, type, tenant) VALUES (%s, %s, %s)",
        "INSERT INTO context_entity_geo (entity_pk, attr, dataset_id, tenant, min_x, min_y, max_x, max_y, size_class) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
    ),
}


def _new_pks(conn: Connection, n: int) -> list[int]:
    """Primary keys for n new entities, so that inserts need no RETURNING (which SQLAlchemy runs row by
    row on SQLite). SQLite: the caller holds the write lock (BEGIN IMMEDIATE), so max(pk) is stable;
    PostgreSQL: drawn from the table's sequence."""
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('context_entities', 'pk')) FROM generate_series(1, %s)", (n,)
        )
        return [r[0] for r in rows]
    top = conn.exec_driver_sql("SELECT coalesce(max(pk), 0) FROM context_entities").scalar() or 0
    return list(range(top + 1, top + 1 + n))


def insert_many(conn: Connection, tenant: str, rows: list[EntityRow], geo: dict[str, list[GeoRow]]) -> None:
    """Insert new entities with their type and bounding-box rows. Fills in ``row.pk``."""
    if not rows:
        return
    for r, pk in zip(rows, _new_pks(conn, len(rows)), strict=True):
        r.pk = pk
    ins_entity, ins_type, ins_geo = _INSERT[conn.dialect.name]
    conn.exec_driver_sql(
        ins_entity,
        [
            (
                r.pk,
                tenant,
                r.id,
                _json_in(r.types),
                _json_in(r.scope),
                _json_in(r.attrs),
                r.created_at,
                r.modified_at,
                r.owner,
                r.expires_at,
                _first_version(),
            )
            for r in rows
        ],
    )
    conn.exec_driver_sql(ins_type, [(r.pk, t, tenant) for r in rows for t in r.types])
    geo_params = [(r.pk, attr, ds, tenant, *box, size_class(box)) for r in rows for attr, ds, box in geo.get(r.id, ())]
    if geo_params:
        conn.exec_driver_sql(ins_geo, geo_params)


def update_many(
    conn: Connection,
    tenant: str,
    rows: list[EntityRow],
    *,
    types_changed: Iterable[EntityRow] = (),
    geo: dict[int, list[GeoRow]] | None = None,
) -> None:
    """Write new attribute documents of existing entities; re-index types and geometry where they changed."""
    if not rows:
        return
    conn.exec_driver_sql(
        _UPDATE[conn.dialect.name],
        [
            (_json_in(r.types), _json_in(r.scope), _json_in(r.attrs), r.modified_at, r.created_at, r.expires_at, r.pk)
            for r in rows
        ],
    )
    changed = list(types_changed)
    _, ins_type, ins_geo = _INSERT[conn.dialect.name]
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    if changed:
        conn.exec_driver_sql(f"DELETE FROM context_entity_types WHERE entity_pk = {mark}", [(r.pk,) for r in changed])
        conn.exec_driver_sql(ins_type, [(r.pk, t, tenant) for r in changed for t in r.types])
    if geo:
        conn.exec_driver_sql(f"DELETE FROM context_entity_geo WHERE entity_pk = {mark}", [(pk,) for pk in geo])
        params = [(pk, attr, ds, tenant, *box, size_class(box)) for pk, items in geo.items() for attr, ds, box in items]
        if params:
            conn.exec_driver_sql(ins_geo, params)


_STATES = {
    "sqlite": "UPDATE context_entities SET attrs = ?, modified_at = ?, shadow = NULL, version = version + 1 "
    "WHERE pk = ?",
    # one statement over one JSON array: executemany's per-row cost in the client is most of the write
    "postgresql": "UPDATE context_entities AS e SET attrs = v.d, modified_at = v.m, shadow = NULL, "
    "version = e.version + 1 FROM json_to_recordset(%s::json) AS v(p bigint, m text, d jsonb) WHERE e.pk = v.p",
}


def _first_version() -> int:
    """A new row's version: random, so that a row made again under a deleted one's pk (SQLite reuses the
    highest) does not take up a version a reader read of the deleted one (keep_shadows' guard)."""
    return random.getrandbits(62)


def update_states(conn: Connection, rows: list[EntityRow]) -> None:
    """Write new attribute documents and modification times of existing entities whose types, scope
    and geometry stayed as they were (telemetry's states)."""
    if not rows:
        return
    sql = _STATES[conn.dialect.name]
    if conn.dialect.name == "postgresql":
        doc = orjson.dumps([{"p": r.pk, "m": r.modified_at, "d": r.attrs} for r in rows]).decode()
        conn.exec_driver_sql(sql, (doc,))
    else:
        conn.exec_driver_sql(sql, [(_json_in(r.attrs), r.modified_at, r.pk) for r in rows])


_KEEP_SHADOW = {
    "sqlite": "UPDATE context_entities SET shadow = ? WHERE pk = ? AND version = ?",
    "postgresql": "UPDATE context_entities SET shadow = %s::json WHERE pk = %s AND version = %s",
}


def keep_shadows(conn: Connection, kept: Sequence[tuple[int, int, Any]]) -> None:
    """Keep derived values beside the state: each (pk, version, doc) written only where the row's version is
    still the one read (a write since has emptied the shadow and moved the version: the doc is dropped)."""
    if kept:
        sql = _KEEP_SHADOW[conn.dialect.name]
        conn.exec_driver_sql(sql, [(_json_in(doc), pk, version) for pk, version, doc in kept])


def delete_many(conn: Connection, pks: list[int]) -> None:
    for start in range(0, len(pks), 500):
        chunk = pks[start : start + 500]
        # Child rows go explicitly: SQLite enforces ON DELETE CASCADE only with foreign_keys on.
        conn.execute(delete(entity_types).where(entity_types.c.entity_pk.in_(chunk)))
        conn.execute(delete(entity_geo).where(entity_geo.c.entity_pk.in_(chunk)))
        conn.execute(delete(entities).where(entities.c.pk.in_(chunk)))


# --- queries ---------------------------------------------------------------------------------------


def has_any_attr(attr_iris: list[str], dialect: str) -> ColumnElement[bool]:
    """The entity has at least one of the attributes."""
    if dialect == "postgresql":
        return literal_column("context_entities.attrs").op("?|")(bindparam(None, attr_iris, type_=_pg_text_array()))
    clauses = [func.json_type(entities.c.attrs, _json_key_path(a)).is_not(None) for a in attr_iris]
    return or_(*clauses)


def _pg_text_array() -> Any:
    from sqlalchemy.dialects.postgresql import ARRAY
    from sqlalchemy.types import Text

    return ARRAY(Text())


def _json_key_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def id_matches(pattern: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return entities.c.id.op("~")(pattern)
    return entities.c.id.op("REGEXP")(pattern)


def live(now: str) -> ColumnElement[bool]:
    """The entity has not expired at ``now`` (NGSI-LD 4.22: an expired one is not served, reaped or not)."""
    return or_(entities.c.expires_at.is_(None), entities.c.expires_at > now)


def expired_pks(conn: Connection, tenant: str | None, now: str, limit: int) -> list[int]:
    """Up to ``limit`` entities expired at ``now`` (of ``tenant``; None: of every tenant), for the reaper."""
    stmt = select(entities.c.pk).where(entities.c.expires_at <= now)
    if tenant is not None:
        stmt = stmt.where(entities.c.tenant == tenant)
    return [r[0] for r in conn.execute(stmt.order_by(entities.c.expires_at).limit(limit))]


@dataclass
class Selection:
    """A query over entities and the column its pages are ordered and keyed by."""

    stmt: Select[Any]
    order: Any


def _unless_kept(dialect: str, key: str) -> Any:
    """The ``attrs`` column, or an empty document for a row whose shadow names ``key`` (what a reader keeps there
    under it): the state of those rows is neither sent nor decoded. The shadow is JSON text as written (orjson,
    ``"key":`` without spaces), so a search of its text finds the key; a value that holds the same text makes the
    test true of a row that keeps nothing under the key, whose reader then finds no record there and reads it again
    with its state."""
    needle: Any = bindparam("kept_key", '"' + key + '":', unique=True)
    if dialect == "postgresql":
        found: Any = func.strpos(cast(entities.c.shadow, Text), needle) > 0
        empty: Any = literal_column("'{}'::jsonb")
    else:
        found, empty = func.instr(entities.c.shadow, needle) > 0, literal_column("'{}'")
    return type_coerce(case((found, empty), else_=entities.c.attrs), entities.c.attrs.type).label("attrs")


def base_select(
    tenant: str,
    where: list[ColumnElement[bool]],
    *,
    type_iri: str | None = None,
    shadows: bool = False,
    kept_key: str | None = None,
    dialect: str = "sqlite",
) -> Selection:
    """Entities of a tenant matching ``where`` (``shadows``: with their kept derived values and versions;
    ``kept_key``: the rows whose shadow names it without their attributes, :func:`_unless_kept`).

    With ``type_iri`` the query is driven by the ``(tenant, type, entity_pk)`` index: rows come in
    pk order straight from the index and a page stops as soon as it is full, instead of first
    listing every entity of the type.
    """
    columns: tuple[Any, ...] = SHADOW_COLUMNS if shadows else COLUMNS
    if kept_key is not None:
        columns = tuple(_unless_kept(dialect, kept_key) if c is entities.c.attrs else c for c in columns)
    where = [*where, live(now_iso())]
    if type_iri is None:
        return Selection(select(*columns).where(entities.c.tenant == tenant, *where), entities.c.pk)
    t = entity_types.c
    stmt = (
        select(*columns)
        .select_from(entity_types.join(entities, entities.c.pk == t.entity_pk))
        .where(t.tenant == tenant, t.type == type_iri, *where)
    )
    return Selection(stmt, t.entity_pk)


def iterate(conn: Connection, sel: Selection, first: int = 500, most: int = 2000) -> Iterator[EntityRow]:
    """Rows of a query in pk order, fetched in keyset chunks: ``first`` rows, then four times more
    each time up to ``most``, so that a caller that needs one page decodes little more than that."""
    last = None
    chunk = max(1, first)
    while True:
        s = sel.stmt.order_by(sel.order).limit(chunk)
        if last is not None:
            s = s.where(sel.order > last)
        batch = [row_of(r) for r in conn.execute(s)]
        yield from batch
        if len(batch) < chunk:
            return
        last = batch[-1].pk
        chunk = min(most, chunk * 4)


def modified_after(
    conn: Connection, tenant: str, type_iri: str, since: str, after: tuple[str, int] | None, limit: int
) -> list[EntityRow]:
    """Up to ``limit`` entities of a type modified after ``since``, in order of (modifiedAt, pk), from
    ``after`` (the last one of the chunk before) on: the (tenant, modified_at) index drives the scan and
    the type is checked by its primary key, so a few changes among many entities read only those."""
    e, t = entities.c, entity_types.c
    has_type = select(literal(1)).where(t.entity_pk == e.pk, t.type == type_iri).exists()
    stmt = select(*COLUMNS).where(e.tenant == tenant, has_type)
    if after is None:
        stmt = stmt.where(e.modified_at > since)
    else:  # the range starts at the last one read, so that each chunk scans only its own rows
        stmt = stmt.where(e.modified_at >= after[0], or_(e.modified_at > after[0], e.pk > after[1]))
    return [row_of(r) for r in conn.execute(stmt.order_by(e.modified_at, e.pk).limit(limit))]


def attribute_texts(
    conn: Connection, dialect: str, tenant: str, type_iri: str, iris: Sequence[str], after: int | None, limit: int
) -> list[tuple[int, str, list[str | None]]]:
    """Up to ``limit`` entities of a type in pk order after the pk ``after``: (pk, id, and for each attribute IRI
    of ``iris`` its instances as JSON text, None when absent), only those attributes taken out of the stored
    document by the database (the type index drives the scan, as :func:`base_select`'s does)."""
    if dialect == "postgresql":
        picks = [f"CAST(e.attrs -> :a{n} AS TEXT)" for n in range(len(iris))]
        params: dict[str, Any] = {f"a{n}": iri for n, iri in enumerate(iris)}
    else:
        picks = [f"json_extract(e.attrs, :a{n})" for n in range(len(iris))]
        params = {f"a{n}": _json_key_path(iri) for n, iri in enumerate(iris)}
    sql = (f"SELECT e.pk, e.id{''.join(', ' + p for p in picks)} FROM context_entity_types t "
           "JOIN context_entities e ON e.pk = t.entity_pk WHERE t.tenant = :tenant AND t.type = :type "
           f"{'AND t.entity_pk > :after ' if after is not None else ''}ORDER BY t.entity_pk LIMIT :limit")  # fmt: skip
    params.update(tenant=tenant, type=type_iri, after=after, limit=limit)
    return [(r[0], r[1], list(r[2:])) for r in conn.execute(text(sql), params)]


def page(conn: Connection, sel: Selection, limit: int, offset: int) -> list[EntityRow]:
    # fetched at once: the driver's fetchall makes the page's rows in one call (iterating fetches them row by
    # row, a driver call each: about 1 ms of a 1,000-row page's CPU on PostgreSQL)
    return list(map(row_of, conn.execute(sel.stmt.order_by(sel.order).limit(limit).offset(offset)).fetchall()))


def count(conn: Connection, sel: Selection) -> int:
    inner = sel.stmt.with_only_columns(entities.c.pk).subquery()
    return conn.execute(select(func.count()).select_from(inner)).scalar_one()


# --- types and attributes --------------------------------------------------------------------------


def type_counts(conn: Connection, tenant: str) -> dict[str, int]:
    rows = conn.execute(
        select(entity_types.c.type, func.count()).where(entity_types.c.tenant == tenant).group_by(entity_types.c.type)
    )
    return {t: n for t, n in rows}


def attribute_usage(
    conn: Connection, tenant: str, dialect: str, type_iri: str | None = None, not_types: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """Per attribute IRI: how many entities have it, its attribute types and the entity types having it;
    entities of any of ``not_types`` are not counted."""
    where = "e.tenant = :tenant"
    params: dict[str, Any] = {"tenant": tenant}
    if type_iri is not None:
        where += " AND e.pk IN (SELECT entity_pk FROM context_entity_types WHERE tenant = :tenant AND type = :t)"
        params["t"] = type_iri
    hidden = sorted(not_types)
    if hidden:
        names = ", ".join(f":h{i}" for i in range(len(hidden)))
        where += (
            " AND e.pk NOT IN (SELECT entity_pk FROM context_entity_types"
            f" WHERE tenant = :tenant AND type IN ({names}))"
        )
        params.update({f"h{i}": h for i, h in enumerate(hidden)})
    if dialect == "postgresql":
        each = "CROSS JOIN LATERAL jsonb_each(e.attrs) AS a(key, value)"
        kinds = f"""
            SELECT DISTINCT a.key, t.type, inst->>'type' FROM context_entities e {each}
            CROSS JOIN LATERAL jsonb_array_elements(a.value) AS inst
            JOIN context_entity_types t ON t.entity_pk = e.pk WHERE {where}"""
    else:
        each = ", json_each(e.attrs) AS a"
        kinds = f"""
            SELECT DISTINCT a.key, t.type, json_extract(inst.value, '$.type')
            FROM context_entities e {each}, json_each(a.value) AS inst
            JOIN context_entity_types t ON t.entity_pk = e.pk WHERE {where}"""
    counts = f"SELECT a.key, count(*) FROM context_entities e {each} WHERE {where} GROUP BY a.key"
    out: dict[str, dict[str, Any]] = {}
    for attr, n in conn.execute(text(counts), params):
        out[attr] = {"types": set(), "kinds": set(), "count": n}
    for attr, etype, kind in conn.execute(text(kinds), params):
        info = out.setdefault(attr, {"types": set(), "kinds": set(), "count": 0})
        info["types"].add(etype)
        info["kinds"].add(kind or "Property")
    return out


def adopt(conn: Connection, tenant: str, ids: Sequence[str], owner: str) -> int:
    """Give the entities among ``ids`` that have no owner to ``owner``; how many it took."""
    taken = 0
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        stmt = (
            entities.update()
            .where(entities.c.tenant == tenant, entities.c.id.in_(chunk), entities.c.owner.is_(None))
            .values(owner=owner)
        )
        taken += conn.execute(stmt).rowcount
    return taken
