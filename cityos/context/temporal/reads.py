"""The temporal evolution of entities (NGSI-LD temporal API), read from the attribute history.

Instances and aggregates are selected and computed in SQL over ``context_attr_history``, whose key
(tenant, entity, attribute, datasetId, ts) makes one attribute's time range one index range.
Aggregation periods are integer buckets of epoch milliseconds, counted from the range's start.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection

from cityos.context.entity import EXPIRES_AT, VALUE_MEMBER, TermMap, has_expired
from cityos.context.render import View, entity_head, render_instance, shown_ts
from cityos.context.temporal.params import Aggregation, TimeRange
from cityos.core.timefmt import from_ms, now_iso, to_ms


class Stored(NamedTuple):
    """One stored instance as a read finds it."""

    dataset_id: str  # "" for the default instance
    ts: int  # the time it is shown and ordered by: observedAt (epoch ms), or when it was stored if asked
    instance: dict[str, Any]
    key: tuple[int, int]  # its row's time and sequence number: what its instanceId names


# (entity id, attr IRI) -> its instances in time
Instances = dict[tuple[str, str], list[Stored]]


# the instances not expired at :now (NGSI-LD 4.22): what a read shows, an aggregate counts; stored forms are
# fixed-width, so byte order ("C" on PostgreSQL, whatever the database's collation) is time order
_LIVE = {
    "postgresql": "(instance->>'expiresAt' IS NULL OR instance->>'expiresAt' COLLATE \"C\" > :now)",
    "sqlite": "(json_extract(instance, '$.expiresAt') IS NULL OR json_extract(instance, '$.expiresAt') > :now)",
}

# the instances recording a deletion (history.deletion_instance), per dialect
_DELETION = {
    "postgresql": "instance ? 'deletedAt'",
    "sqlite": "json_extract(instance, '$.deletedAt') IS NOT NULL",
}


def _where(
    tenant: str,
    entity_ids: list[str],
    attrs: list[str] | None,
    rng: TimeRange,
    time_column: str = "ts",
    dialect: str = "sqlite",
) -> tuple[str, dict[str, Any]]:
    """The WHERE clause selecting some entities' series (optionally some attributes) in a time range."""
    params: dict[str, Any] = {"tenant": tenant}
    ids = ", ".join(f":e{i}" for i in range(len(entity_ids)))
    params.update({f"e{i}": e for i, e in enumerate(entity_ids)})
    sql = f"tenant = :tenant AND entity_id IN ({ids})"
    if attrs:
        sql += " AND attr IN (" + ", ".join(f":a{i}" for i in range(len(attrs))) + ")"
        params.update({f"a{i}": a for i, a in enumerate(attrs)})
    if rng.datasets is not None:
        sql += " AND dataset_id IN (" + ", ".join(f":d{i}" for i in range(len(rng.datasets))) + ")"
        params.update({f"d{i}": d for i, d in enumerate(sorted(rng.datasets))})
    bound: Callable[[int], str | int] = int
    if rng.by_storage_time and time_column == "ts":
        # written_at has one fixed-width form, so string order is time order
        time_column, bound = "written_at", from_ms
        if rng.prop == "deletedAt":
            sql += " AND " + _DELETION[dialect]
    if rng.start is not None:
        sql += f" AND {time_column} >= :start"
        params["start"] = bound(rng.start)
    if rng.end is not None:
        sql += f" AND {time_column} < :end"
        params["end"] = bound(rng.end)
    return sql, params


def fetch_instances(
    conn: Connection,
    tenant: str,
    entity_ids: list[str],
    attrs: list[str] | None,
    rng: TimeRange,
    last_n: int | None = None,
    cap: int | None = None,
) -> Instances:
    """The attribute instances of these entities in the time range, oldest first (the last N when asked).

    With ``cap``, at most cap + 1 instances per series (entity, attribute, datasetId) are read, so
    that :func:`cut_pages` can tell a truncated series from a complete one.
    """
    out: Instances = {}
    if not entity_ids:
        return out
    where, params = _where(tenant, entity_ids, attrs, rng, dialect=conn.dialect.name)
    order_by = "written_at, ts, seq" if rng.by_storage_time else "ts, seq"
    cols = "entity_id, attr, dataset_id, ts, seq, written_at, instance"
    if last_n is None and cap is None:
        sql = f"SELECT {cols} FROM context_attr_history WHERE {where} ORDER BY entity_id, attr, dataset_id, {order_by}"
    else:
        order = "DESC" if last_n is not None else "ASC"
        window = ", ".join(f"{column} {order}" for column in order_by.split(", "))
        params["n"] = min(n for n in (last_n, None if cap is None else cap + 1) if n is not None)
        sql = (
            f"SELECT {cols} FROM (SELECT {cols}, row_number() OVER (PARTITION BY entity_id, attr, dataset_id "
            f"ORDER BY {window}) AS rn FROM context_attr_history WHERE {where}) AS h "
            f"WHERE rn <= :n ORDER BY entity_id, attr, dataset_id, {order_by}"
        )
    now = now_iso()
    for entity_id, attr, ds, ts, seq, written_at, inst in conn.execute(text(sql), params):
        if isinstance(inst, str | bytes):
            inst = orjson.loads(inst)
        if has_expired(inst.get(EXPIRES_AT), now):  # a transient instance's history goes with it (4.22)
            continue
        shown = ts
        if rng.by_storage_time:
            inst = _at_storage_time(inst, ts, written_at, rng.prop)
            shown = to_ms(written_at)
        out.setdefault((entity_id, attr), []).append(Stored(ds, shown, inst, (ts, seq)))
    return out


def _at_storage_time(inst: dict[str, Any], ts: int, written_at: str, prop: str) -> dict[str, Any]:
    """An instance keyed by when it was stored, holding its key time as observedAt and ``prop``'s time."""
    shown = dict(inst)
    if "deletedAt" not in inst:  # a deletion was not observed
        shown.setdefault("observedAt", from_ms(ts))
    shown[prop] = written_at
    return shown


def cut_pages(instances: Instances, cap: int, *, recent: bool = False) -> int | None:
    """Cut every series at the same time when any has more than ``cap`` instances.

    Returns the time (epoch ms) of the last instance kept, or None when nothing was cut. A client
    continues with ``timerel=after&timeAt=<that time>`` and misses nothing, since every series was
    cut at that same time (after is inclusive: the instances of that very time come again, their
    instanceId tells them). With ``recent`` (lastN) the most recent instances are kept and the page
    goes back in time: the client continues with ``timerel=before&timeAt=<that time>`` (exclusive).
    """
    cut: int | None = None
    for items in instances.values():
        by_ds: dict[str, list[int]] = {}
        for item in items:
            by_ds.setdefault(item.dataset_id, []).append(item.ts)
        for times in by_ds.values():
            if len(times) > cap:
                if recent:
                    last_kept = times[-cap]
                    cut = last_kept if cut is None else max(cut, last_kept)
                else:
                    last_kept = times[cap - 1]
                    cut = last_kept if cut is None else min(cut, last_kept)
    if cut is not None:
        for key, items in instances.items():
            instances[key] = [item for item in items if (item.ts >= cut if recent else item.ts <= cut)]
    return cut


@dataclass
class Bucket:
    start: int
    end: int
    values: dict[str, Any]


# (entity id, attr IRI) -> {"kind": attribute type, "buckets": [Bucket]}
Aggregates = dict[tuple[str, str], list[Bucket]]


def aggregate(
    conn: Connection, tenant: str, entity_ids: list[str], attrs: list[str] | None, rng: TimeRange, aggr: Aggregation
) -> Aggregates:
    """Aggregates per entity, attribute and period, computed by the database."""
    out: Aggregates = {}
    if not entity_ids:
        return out
    where, params = _where(tenant, entity_ids, attrs, rng)
    where += " AND " + _LIVE[conn.dialect.name]
    params["now"] = now_iso()
    if conn.dialect.name == "postgresql":
        num = "CASE WHEN jsonb_typeof(instance->'value') = 'number' THEN (instance->>'value')::double precision END"
        any_value = "coalesce(instance->'value', instance->'object', instance->'languageMap')"
    else:
        num = (
            "CASE WHEN json_type(instance, '$.value') IN ('integer', 'real') THEN json_extract(instance, '$.value') END"
        )
        any_value = (
            "coalesce(json_extract(instance, '$.value'), json_extract(instance, '$.object'), "
            "json_extract(instance, '$.languageMap'))"
        )
    if aggr.period_ms is not None:
        origin = (
            aggr.origin_ms
            if aggr.origin_ms is not None
            else _first_instance(conn, tenant, entity_ids, attrs, rng, params["now"])
        )
        if origin is None:
            return out  # nothing in the range
        aggr = replace(aggr, origin_ms=origin)
        bucket = "(ts - :origin) / :period"
        params.update(origin=origin, period=aggr.period_ms)
    else:
        bucket = "0"
    sql = (
        f"SELECT entity_id, attr, {bucket} AS bucket, count(*), count(DISTINCT {any_value}), sum({num}), "
        f"min({num}), max({num}), sum({num} * {num}), count({num}), min(ts), max(ts) "
        f"FROM context_attr_history WHERE {where} GROUP BY entity_id, attr, bucket ORDER BY entity_id, attr, bucket"
    )
    stats: dict[tuple[str, str, int], list[Any]] = {}
    for entity_id, attr, b, total, distinct, s, lo, hi, sq, n, first, last in conn.execute(text(sql), params):
        stats[(entity_id, attr, int(b))] = [int(total), int(distinct), s, lo, hi, sq, int(n), int(first), int(last)]
    # Compacted history lives in rollups (cityos.context.temporal.retention): add it bucket by bucket.
    rolled = rollup_buckets(conn, tenant, entity_ids, attrs, rng, aggr)
    for key, (rn, rnum, rs, rsq, rlo, rhi, rfirst, rlast) in rolled.items():
        cur = stats.get(key)
        if cur is None:
            stats[key] = [rn, None, rs, rlo, rhi, rsq, rnum, rfirst, rlast]
            continue
        cur[0] += rn
        cur[1] = None  # distinct values cannot be counted across rollups
        cur[2] = _add(cur[2], rs)
        cur[3] = _pick(min, cur[3], rlo)
        cur[4] = _pick(max, cur[4], rhi)
        cur[5] = _add(cur[5], rsq)
        cur[6] += rnum
        cur[7], cur[8] = min(cur[7], rfirst), max(cur[8], rlast)
    for (entity_id, attr, b), (total, distinct, s, lo, hi, sq, n, first, last) in sorted(stats.items()):
        if aggr.period_ms is not None and aggr.origin_ms is not None:
            start = aggr.origin_ms + b * aggr.period_ms
            end = start + aggr.period_ms
        else:
            start = rng.start if rng.start is not None else first
            end = rng.end if rng.end is not None else last + 1
        values = _methods(aggr.methods, total, distinct, s, lo, hi, sq, n)
        out.setdefault((entity_id, attr), []).append(Bucket(start, end, values))
    return out


def _first_instance(
    conn: Connection, tenant: str, entity_ids: list[str], attrs: list[str] | None, rng: TimeRange, now: str
) -> int | None:
    """The time of the first instance in the range not expired at ``now``, stored or compacted into a rollup."""
    found = []
    for table, column in (("context_attr_history", "ts"), ("context_attr_rollup", "start")):
        where, params = _where(tenant, entity_ids, attrs, rng, time_column=column)
        if table == "context_attr_history":
            where += " AND " + _LIVE[conn.dialect.name]
            params["now"] = now
        first = conn.execute(text(f"SELECT min({column}) FROM {table} WHERE {where}"), params).scalar()
        if first is not None:
            found.append(int(first))
    return min(found) if found else None


def rollup_buckets(
    conn: Connection, tenant: str, entity_ids: list[str], attrs: list[str] | None, rng: TimeRange, aggr: Aggregation
) -> dict[tuple[str, str, int], tuple[int, int, Any, Any, Any, Any, int, int]]:
    """Compacted history (cityos.context.temporal.retention) in query buckets:
    (entity, attr, bucket) -> (n, numeric n, sum, sumsq, min, max, first start, last start).

    A rollup period is counted whole in the bucket its start falls in.
    """
    if not entity_ids:
        return {}
    where, params = _where(tenant, entity_ids, attrs, rng, time_column="start")
    bucket = "(start - :origin) / :period" if aggr.period_ms and aggr.origin_ms is not None else "0"
    if aggr.period_ms and aggr.origin_ms is not None:
        params.update(origin=aggr.origin_ms, period=aggr.period_ms)
    rows = conn.execute(
        text(
            f"SELECT entity_id, attr, {bucket} AS b, sum(n), sum(num_n), sum(total), sum(sumsq), min(low), max(high), "
            f"min(start), max(start) FROM context_attr_rollup WHERE {where} GROUP BY entity_id, attr, b"
        ),
        params,
    )
    return {
        (e, a, int(b)): (int(n), int(nn), s, sq, lo, hi, int(first), int(last))
        for e, a, b, n, nn, s, sq, lo, hi, first, last in rows
    }


def _add(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else a + b


def _pick(f: Any, a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else f(a, b)


def _methods(
    methods: tuple[str, ...], total: int, distinct: int | None, s: Any, lo: Any, hi: Any, sq: Any, n: int
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for m in methods:
        if m == "totalCount":
            values[m] = total
        elif m == "distinctCount":
            values[m] = distinct
        elif n == 0:
            values[m] = None  # no numeric values in this period
        elif m == "sum":
            values[m] = s
        elif m == "avg":
            values[m] = s / n
        elif m == "min":
            values[m] = lo
        elif m == "max":
            values[m] = hi
        elif m == "sumsq":
            values[m] = sq
        elif m == "stddev":  # population standard deviation, from the sums the database computed
            values[m] = math.sqrt(max(0.0, sq / n - (s / n) ** 2))
    return values


# --- representations ----------------------------------------------------------------------------------


def instance_id(dataset_id: str, key: tuple[int, int]) -> str:
    """A stable id for one stored instance: its time, a short hash of its datasetId and (for a change that
    is not telemetry) its sequence number, so that the instance is found again by primary key (entity and
    attribute come from the URL)."""
    ts, seq = key
    return f"{INSTANCE_PREFIX}{ts}-{_ds_hash(dataset_id)}" + (f"-{seq}" if seq else "")


INSTANCE_PREFIX = "urn:ngsi-ld:attribute:instance:"


def _ds_hash(dataset_id: str) -> str:
    return hashlib.sha1(dataset_id.encode()).hexdigest()[:8] if dataset_id else "0"


def parse_instance_id(text: str) -> tuple[int, str, int] | None:
    """(ts, datasetId hash, sequence number) of an id made by :func:`instance_id`, or None if it is not one."""
    if not text.startswith(INSTANCE_PREFIX):
        return None
    ts, _, rest = text[len(INSTANCE_PREFIX) :].partition("-")
    h, _, seq = rest.partition("-")
    if not ts.isdigit() or not h or not (seq == "" or seq.isdigit()):
        return None
    return int(ts), h, int(seq or 0)


def find_instance(conn: Connection, tenant: str, entity_id: str, attr: str, iid: str) -> Stored | None:
    """The stored instance that ``iid`` names, or None."""
    parsed = parse_instance_id(iid)
    if parsed is None:
        return None
    ts, h, seq = parsed
    rows = conn.execute(
        text(
            "SELECT dataset_id, instance FROM context_attr_history WHERE tenant = :t AND "
            "entity_id = :e AND attr = :a AND ts = :ts AND seq = :seq"
        ),
        {"t": tenant, "e": entity_id, "a": attr, "ts": ts, "seq": seq},
    )
    for ds, inst in rows:
        if _ds_hash(ds) == h:
            return Stored(ds, ts, orjson.loads(inst) if isinstance(inst, str | bytes) else inst, (ts, seq))
    return None


def delete_history(
    conn: Connection,
    tenant: str,
    entity_id: str,
    attr: str | None = None,
    dataset_id: str | None = None,
    instance: tuple[int, int] | None = None,
) -> int:
    """Delete history rows of an entity (one attribute, one datasetId, one instance by its time and sequence
    number); returns how many."""
    sql = "DELETE FROM context_attr_history WHERE tenant = :t AND entity_id = :e"
    params: dict[str, Any] = {"t": tenant, "e": entity_id}
    if attr is not None:
        sql += " AND attr = :a"
        params["a"] = attr
    if dataset_id is not None:
        sql += " AND dataset_id = :ds"
        params["ds"] = dataset_id
    if instance is not None:
        sql += " AND ts = :ts AND seq = :seq"
        params["ts"], params["seq"] = instance
    return conn.execute(text(sql), params).rowcount


def render_temporal(
    entity_id: str,
    types: list[str],
    instances: Instances,
    tm: TermMap,
    view: View,
    *,
    temporal_values: bool,
    prop: str = "observedAt",
) -> dict[str, Any]:
    """The temporal representation of one entity: each attribute a list of its instances in time (the
    members ``view`` picks or omits left out)."""
    out = entity_head(entity_id, types, tm, view)
    for (eid, attr), items in instances.items():
        if eid != entity_id or not view.wants(attr):
            continue
        name = tm.compact(attr)
        if temporal_values:
            out[name] = _temporal_values(items, tm)
            continue
        rendered = []
        for item in items:
            shown = render_instance(item.instance, tm, view)
            if isinstance(shown, dict):
                deleted = item.instance.get("deletedAt")
                if prop != "observedAt":  # the time shown is the storage time here
                    shown[prop] = item.instance[prop]
                elif deleted is None:  # a deletion was not observed
                    shown.setdefault("observedAt", shown_ts(from_ms(item.ts)))
                if deleted is not None:  # what the instance says, whatever the read's sysAttrs
                    shown["deletedAt"] = deleted
                shown["instanceId"] = instance_id(item.dataset_id, item.key)
            rendered.append(shown)
        out[name] = rendered
    return out


# the simplified temporal representation wraps these values in their member (NGSI-LD v1.8 clause 4.5.9)
_WRAPPED = frozenset({"languageMap", "json", "vocab"})


def _temporal_values(items: list[Stored], tm: TermMap) -> Any:
    if not items:  # a series a page cut before its first instance: still an attribute, with no values here
        return {"type": "Property", "values": []}
    by_ds: dict[str, dict[str, Any]] = {}
    for ds, ts, inst, _key in items:
        kind = inst.get("type", "Property")
        member = VALUE_MEMBER.get(kind, "value")
        entry = by_ds.setdefault(ds, {"type": kind, "values" if member == "value" else f"{member}s": []})
        if ds:
            entry["datasetId"] = ds
        value = inst.get(member)
        if member == "vocab":  # vocab values are IRIs, compacted as in the other representations
            value = [tm.compact(v) for v in value] if isinstance(value, list) else tm.compact(str(value))
        if member in _WRAPPED:  # these values are objects or arrays: the member names them (ETSI 020_12, 020_15)
            value = {member: value}
        entry["values" if member == "value" else f"{member}s"].append([value, shown_ts(from_ms(ts))])
    entries = list(by_ds.values())
    return entries[0] if len(entries) == 1 else entries


def render_aggregated(
    entity_id: str,
    types: list[str],
    aggregates: Aggregates,
    kinds: dict[str, str],
    tm: TermMap,
    methods: tuple[str, ...],
    view: View | None = None,
) -> dict[str, Any]:
    """The aggregated temporal representation: per attribute and method, [value, startAt, endAt] per period."""
    view = view or View()
    out = entity_head(entity_id, types, tm, view)
    for (eid, attr), buckets in aggregates.items():
        if eid != entity_id or not view.wants(attr):
            continue
        entry: dict[str, Any] = {"type": kinds.get(attr, "Property")}
        for m in methods:
            entry[m] = [[b.values.get(m), shown_ts(from_ms(b.start)), shown_ts(from_ms(b.end))] for b in buckets]
        out[tm.compact(attr)] = entry
    return out
