"""Attribute history (temporal evolution): rows written with the current state, in one transaction.

Each changed attribute instance becomes one row keyed by (tenant, entity, attribute, datasetId, ts),
ts being observedAt in epoch milliseconds, or the write time when the instance has no observedAt.
Every accepted change is a row of its own (a sequence number tells changes of one millisecond apart);
a replayed telemetry observation (same entity, attribute, datasetId and observedAt) is one row, so
retried messages do not duplicate history.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from cityos.context.entity import NULL_URI, VALUE_MEMBER
from cityos.core.timefmt import to_ms

log = logging.getLogger(__name__)
HistoryRow = tuple[str, str, str, int, dict[str, Any]]  # entity id, attr IRI, datasetId or "", ts ms, instance


# a batch's instances share one write time (and telemetry's often one observedAt): parsed once, not per instance
_stamp_ms = lru_cache(maxsize=256)(to_ms)


def instance_time(inst: dict[str, Any], written_at: str) -> int:
    return _stamp_ms(inst.get("observedAt") or inst.get("modifiedAt") or written_at)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal but for the system timestamps: re-sending the same value is not a change."""
    return {k: v for k, v in a.items() if k not in ("createdAt", "modifiedAt")} == {
        k: v for k, v in b.items() if k not in ("createdAt", "modifiedAt")
    }


def changed_instances(
    entity_id: str,
    before: dict[str, list[dict[str, Any]]] | None,
    after: dict[str, list[dict[str, Any]]],
    names: set[str],
    written_at: str,
) -> list[HistoryRow]:
    """History rows for the instances of ``names`` that are new or differ from ``before``."""
    rows: list[HistoryRow] = []
    for name in names:
        new = after.get(name)
        if not new:
            continue
        old = {i.get("datasetId"): i for i in (before or {}).get(name, ())}
        for inst in new:
            ds = inst.get("datasetId")
            prev = old.get(ds)
            if prev is not None and _same(prev, inst):
                continue
            rows.append((entity_id, name, ds or "", instance_time(inst, written_at), inst))
    return rows


SCOPE_IRI = "https://uri.etsi.org/ngsi-ld/scope"


def deletion_instance(kind: str, written_at: str, dataset_id: str | None = None) -> dict[str, Any]:
    """The instance that records an attribute's deletion in its history: NGSI-LD Null as its value and the
    time it went as ``deletedAt`` (NGSI-LD v1.8, clauses 4.5.7 and 4.8; read with timeproperty=deletedAt)."""
    member = VALUE_MEMBER.get(kind, "value")
    null: Any = {"@none": NULL_URI} if member == "languageMap" else NULL_URI
    inst: dict[str, Any] = {"type": kind, member: null, "deletedAt": written_at}
    if dataset_id:
        inst["datasetId"] = dataset_id
    return inst


def deleted_instances(
    entity_id: str,
    before: dict[str, list[dict[str, Any]]],
    after: dict[str, list[dict[str, Any]]],
    names: set[str],
    written_at: str,
) -> list[HistoryRow]:
    """History rows recording the instances of ``names`` that ``before`` held and ``after`` does not."""
    rows: list[HistoryRow] = []
    for name in names:
        held = before.get(name)
        if not held:
            continue
        kept = {i.get("datasetId") for i in after.get(name, ())}
        for inst in held:
            ds = inst.get("datasetId")
            if ds not in kept:
                gone = deletion_instance(inst.get("type", "Property"), written_at, ds)
                rows.append((entity_id, name, ds or "", _stamp_ms(written_at), gone))
    return rows


def scope_deletion(entity_id: str, written_at: str) -> HistoryRow:
    """The history row recording that an entity's scope was deleted (its value an empty list)."""
    gone = {"type": "Property", "value": [], "deletedAt": written_at}
    return (entity_id, SCOPE_IRI, "", _stamp_ms(written_at), gone)


_INSERT = {
    "sqlite": (
        "INSERT INTO context_attr_history (tenant, entity_id, attr, dataset_id, ts, seq, instance, written_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ),
    "postgresql": (
        "INSERT INTO context_attr_history (tenant, entity_id, attr, dataset_id, ts, seq, instance, written_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s)"
    ),
}
# telemetry: the first write of an observation wins, so a replayed message changes nothing
_KEEP_FIRST = {dialect: sql + " ON CONFLICT DO NOTHING" for dialect, sql in _INSERT.items()}

_seq_lock = threading.Lock()
_last_seq = 0


def next_seq() -> int:
    """A number no other change of the same attribute and millisecond has: this process's clock in ns, kept
    rising (two processes would need the same nanosecond to meet); it orders changes of one millisecond."""
    return next_seqs(1)[0]


def next_seqs(n: int) -> range:
    """``n`` such numbers in a row, taken at once (a batch's rows: one lock, one clock read)."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(_last_seq + n, time.time_ns() + n - 1)
        return range(_last_seq - n + 1, _last_seq + 1)


def insert_history(
    conn: Connection, tenant: str, rows: list[HistoryRow], written_at: str, *, keep_first: bool = False
) -> None:
    """Write history rows in the caller's transaction.

    Each row is a change of its own (a fresh sequence number), so no accepted change replaces another; with
    ``keep_first`` (telemetry) the key is the observation itself (sequence 0), and a row stored already
    is left alone: a replayed message changes nothing.
    """
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        ensure_month_partitions(conn, {r[3] for r in rows})
    if keep_first:
        values = [(tenant, e, a, ds, ts, 0, orjson.dumps(inst).decode(), written_at) for e, a, ds, ts, inst in rows]
        conn.exec_driver_sql(_KEEP_FIRST[dialect], values)
        return
    values = [
        (tenant, e, a, ds, ts, seq, orjson.dumps(inst).decode(), written_at)
        for (e, a, ds, ts, inst), seq in zip(rows, next_seqs(len(rows)), strict=True)
    ]
    conn.exec_driver_sql(_INSERT[dialect], values)


def replace_history(conn: Connection, tenant: str, rows: list[HistoryRow], written_at: str) -> None:
    """Write history rows in the caller's transaction, each in place of the rows stored at its attribute,
    datasetId and time (temporal provision: an instance sent again for the same time replaces it)."""
    if not rows:
        return
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    conn.exec_driver_sql(
        f"DELETE FROM context_attr_history WHERE tenant = {mark} AND entity_id = {mark} AND attr = {mark} "
        f"AND dataset_id = {mark} AND ts = {mark}",
        list(dict.fromkeys((tenant, e, a, ds, ts) for e, a, ds, ts, _inst in rows)),
    )
    insert_history(conn, tenant, rows, written_at)


# PostgreSQL: a batch of telemetry rows is one statement over one JSON array (the client's per-row cost of
# executemany, or of dumping text arrays, is most of the write), in array order, so that of two rows of one
# key the first wins
_OBSERVATIONS_PG = (
    "INSERT INTO context_attr_history (tenant, entity_id, attr, dataset_id, ts, seq, instance, written_at) "
    "SELECT %s, v.e, v.a, v.d, v.t, 0, v.i, %s FROM ROWS FROM (json_to_recordset(%s::json) "
    "AS (e text, a text, d text, t bigint, i jsonb)) WITH ORDINALITY AS v(e, a, d, t, i, n) "
    "ORDER BY v.n ON CONFLICT DO NOTHING"
)


def insert_observations(conn: Connection, tenant: str, rows: list[HistoryRow], written_at: str) -> None:
    """Write telemetry's history rows (``insert_history`` with ``keep_first``) in as few statements as the
    database allows: one on PostgreSQL."""
    if conn.dialect.name != "postgresql" or not rows:
        insert_history(conn, tenant, rows, written_at, keep_first=True)
        return
    ensure_month_partitions(conn, {r[3] for r in rows})
    doc = orjson.dumps([{"e": e, "a": a, "d": ds, "t": ts, "i": inst} for e, a, ds, ts, inst in rows]).decode()
    conn.exec_driver_sql(_OBSERVATIONS_PG, (tenant, written_at, doc))


ObservationKey = tuple[str, str, str, int]  # entity id, attr IRI, datasetId or "", ts ms


_STORED_PG = (
    "SELECT h.entity_id, h.attr, h.dataset_id, h.ts "
    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::bigint[]) AS k(e, a, d, t) "
    "JOIN context_attr_history AS h ON h.tenant = %s AND h.entity_id = k.e AND h.attr = k.a "
    "AND h.dataset_id = k.d AND h.ts = k.t AND h.seq = 0"
)


def stored_observations(conn: Connection, tenant: str, keys: list[ObservationKey]) -> set[ObservationKey]:
    """Which of these telemetry observations (sequence 0) the history holds already: a replay's."""
    found: set[ObservationKey] = set()
    if conn.dialect.name == "postgresql":  # one statement a batch, the same text each time (no VALUES list to plan)
        es, attrs, ds, ts = (list(col) for col in zip(*keys, strict=True)) if keys else ([], [], [], [])
        stored = conn.exec_driver_sql(_STORED_PG, (es, attrs, ds, ts, tenant))
        found.update((r[0], r[1], r[2], r[3]) for r in stored)
        return found
    mark = "?"
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        rows = ", ".join([f"({mark}, {mark}, {mark}, {mark})"] * len(chunk))
        sql = (
            "SELECT entity_id, attr, dataset_id, ts FROM context_attr_history WHERE tenant = "
            f"{mark} AND seq = 0 AND (entity_id, attr, dataset_id, ts) IN (VALUES {rows})"
        )
        found.update(tuple(r) for r in conn.exec_driver_sql(sql, (tenant, *(v for k in chunk for v in k))))
    return found


def replace_instance(
    conn: Connection, tenant: str, entity_id: str, attr: str, key: tuple[str, int, int], inst: dict[str, Any],
    written_at: str,
) -> None:  # fmt: skip
    """Rewrite one stored instance (``key``: its datasetId, time and sequence number) in the caller's transaction."""
    ds, ts, seq = key
    conn.execute(
        text(
            "UPDATE context_attr_history SET instance = :inst, written_at = :w WHERE tenant = :t AND "
            "entity_id = :e AND attr = :a AND dataset_id = :ds AND ts = :ts AND seq = :seq"
        ),
        {"inst": orjson.dumps(inst).decode(), "w": written_at, "t": tenant, "e": entity_id, "a": attr, "ds": ds,
         "ts": ts, "seq": seq},
    )  # fmt: skip


# --- PostgreSQL month partitions ------------------------------------------------------------------------

# Months whose partition exists, per engine (a database opened anew starts without any)
_known_months: weakref.WeakKeyDictionary[Engine, set[tuple[int, int]]] = weakref.WeakKeyDictionary()
_months_lock = threading.Lock()


def _month_bounds(year: int, month: int) -> tuple[int, int]:
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def ensure_month_partitions(conn: Connection, stamps: set[int]) -> None:
    """Create the month partitions that rows with these timestamps go to, once per process and month."""
    with _months_lock:
        known = _known_months.setdefault(conn.engine, set())
    months = set()
    for ms in stamps:
        dt = datetime.fromtimestamp(ms / 1000, UTC)
        months.add((dt.year, dt.month))
    missing = [(y, m) for y, m in months if (y, m) not in known]
    for year, month in sorted(missing):
        lo, hi = _month_bounds(year, month)
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(
                    f"CREATE TABLE IF NOT EXISTS context_attr_history_y{year:04d}m{month:02d} "
                    f"PARTITION OF context_attr_history FOR VALUES FROM ({lo}) TO ({hi})"
                )
        except Exception:  # e.g. the default partition already holds rows of that month: they stay there
            log.warning("could not create the history partition for %04d-%02d", year, month, exc_info=True)
        with _months_lock:
            known.add((year, month))
