"""Retention and downsampling of the attribute history (`cityos history compact`).

Per tenant and entity type a policy says how many days raw instances, hourly rollups and daily
rollups are kept. Compaction rolls raw instances older than the raw horizon into hourly rollups
and deletes them, rolls hourly rollups older than the hourly horizon into daily ones and deletes
them, and drops daily rollups past their horizon. It works in chunks of entities, each chunk in
one transaction, so that an interrupted run leaves every chunk either compacted or untouched and
the next run carries on. Rollups keep what aggregation needs (count, numeric count, sum, sum of
squares, min, max), so temporal aggregates over compacted time stay exact for those methods.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection

from cityos.context.errors import BadRequestData
from cityos.context.tables import retention_policies
from cityos.runtime import Runtime

HOUR = 3_600_000
DAY = 86_400_000


@dataclass(frozen=True)
class Policy:
    tenant: str
    entity_type: str  # expanded IRI
    raw_days: int
    hourly_days: int
    daily_days: int | None


def set_policy(rt: Runtime, policy: Policy) -> None:
    """Create or replace the retention policy of one entity type in one tenant."""
    if policy.raw_days < 0 or policy.hourly_days < policy.raw_days:
        raise BadRequestData("keep raw instances for 0 days or more, and hourly rollups at least as long")
    if policy.daily_days is not None and policy.daily_days < policy.hourly_days:
        raise BadRequestData("keep daily rollups at least as long as hourly ones (or forever)")
    t = retention_policies.c
    with rt.db.write() as conn:
        conn.execute(delete(retention_policies).where(t.tenant == policy.tenant, t.entity_type == policy.entity_type))
        conn.execute(
            insert(retention_policies).values(
                tenant=policy.tenant,
                entity_type=policy.entity_type,
                raw_days=policy.raw_days,
                hourly_days=policy.hourly_days,
                daily_days=policy.daily_days,
            )
        )


def policies(rt: Runtime, tenant: str | None = None) -> list[Policy]:
    stmt = select(retention_policies)
    if tenant is not None:
        stmt = stmt.where(retention_policies.c.tenant == tenant)
    with rt.db.connect() as conn:
        return [Policy(r.tenant, r.entity_type, r.raw_days, r.hourly_days, r.daily_days) for r in conn.execute(stmt)]


@dataclass
class CompactReport:
    raw_rolled: int = 0
    hourly_rolled: int = 0
    daily_dropped: int = 0
    chunks: int = 0


def compact(
    rt: Runtime,
    *,
    tenant: str | None = None,
    now_ms: int | None = None,
    chunk_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> CompactReport:
    """Apply every retention policy (of one tenant, or all). Safe to interrupt and run again.

    ``progress(done, total)`` is called after each chunk of entities.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    report = CompactReport()
    plans: list[tuple[Policy, list[str]]] = []
    for policy in policies(rt, tenant):
        with rt.db.connect() as conn:
            ids = list(
                conn.execute(
                    text(
                        "SELECT e.id FROM context_entities e JOIN context_entity_types t ON t.entity_pk = e.pk "
                        "WHERE t.tenant = :tenant AND t.type = :type ORDER BY e.id"
                    ),
                    {"tenant": policy.tenant, "type": policy.entity_type},
                ).scalars()
            )
        plans.append((policy, ids))
    total = sum(len(ids) for _, ids in plans)
    done = 0
    for policy, ids in plans:
        raw_cut = (now - policy.raw_days * DAY) // HOUR * HOUR  # whole hours only
        hourly_cut = (now - policy.hourly_days * DAY) // DAY * DAY  # whole days only
        daily_cut = None if policy.daily_days is None else now - policy.daily_days * DAY
        for start in range(0, len(ids), chunk_size):
            chunk = ids[start : start + chunk_size]
            counts = rt.db.run_write(
                partial(
                    _compact_chunk,
                    tenant=policy.tenant,
                    ids=chunk,
                    raw_cut=raw_cut,
                    hourly_cut=hourly_cut,
                    daily_cut=daily_cut,
                )
            )
            report.raw_rolled += counts[0]
            report.hourly_rolled += counts[1]
            report.daily_dropped += counts[2]
            report.chunks += 1
            done += len(chunk)
            if progress:
                progress(done, total)
    return report


def _in(prefix: str, values: list[str]) -> tuple[str, dict[str, Any]]:
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


def _compact_chunk(
    conn: Connection, tenant: str, ids: list[str], raw_cut: int, hourly_cut: int, daily_cut: int | None
) -> tuple[int, int, int]:
    pg = conn.dialect.name == "postgresql"
    placeholders, params = _in("e", ids)
    params.update(tenant=tenant, raw_cut=raw_cut, hourly_cut=hourly_cut, hour=HOUR, day=DAY)
    if pg:
        num = "CASE WHEN jsonb_typeof(instance->'value') = 'number' THEN (instance->>'value')::double precision END"
        low, high = "least(r.low, excluded.low)", "greatest(r.high, excluded.high)"
    else:
        num = (
            "CASE WHEN json_type(instance, '$.value') IN ('integer', 'real') THEN json_extract(instance, '$.value') END"
        )
        # SQLite's two-argument min/max return NULL if either is NULL
        low = "min(coalesce(r.low, excluded.low), coalesce(excluded.low, r.low))"
        high = "max(coalesce(r.high, excluded.high), coalesce(excluded.high, r.high))"
    merge = (
        " ON CONFLICT (tenant, entity_id, attr, dataset_id, period, start) DO UPDATE SET "
        "n = r.n + excluded.n, num_n = r.num_n + excluded.num_n, "
        "total = coalesce(r.total, 0) + coalesce(excluded.total, 0), "
        "sumsq = coalesce(r.sumsq, 0) + coalesce(excluded.sumsq, 0), "
        f"low = {low}, high = {high}"
    )
    columns = "(tenant, entity_id, attr, dataset_id, period, start, n, num_n, total, sumsq, low, high)"
    where_raw = f"tenant = :tenant AND entity_id IN ({placeholders}) AND ts < :raw_cut"
    conn.execute(
        text(
            f"INSERT INTO context_attr_rollup AS r {columns} "
            f"SELECT tenant, entity_id, attr, dataset_id, 'hour', (ts / :hour) * :hour, count(*), count({num}), "
            f"sum({num}), sum({num} * {num}), min({num}), max({num}) FROM context_attr_history WHERE {where_raw} "
            f"GROUP BY tenant, entity_id, attr, dataset_id, (ts / :hour) * :hour{merge}"
        ),
        params,
    )
    raw = conn.execute(text(f"DELETE FROM context_attr_history WHERE {where_raw}"), params).rowcount
    where_hour = f"tenant = :tenant AND entity_id IN ({placeholders}) AND period = 'hour' AND start < :hourly_cut"
    conn.execute(
        text(
            f"INSERT INTO context_attr_rollup AS r {columns} "
            "SELECT tenant, entity_id, attr, dataset_id, 'day', (start / :day) * :day, sum(n), sum(num_n), sum(total), "
            f"sum(sumsq), min(low), max(high) FROM context_attr_rollup WHERE {where_hour} "
            f"GROUP BY tenant, entity_id, attr, dataset_id, (start / :day) * :day{merge}"
        ),
        params,
    )
    hourly = conn.execute(text(f"DELETE FROM context_attr_rollup WHERE {where_hour}"), params).rowcount
    dropped = 0
    if daily_cut is not None:
        params["daily_cut"] = daily_cut
        dropped = conn.execute(
            text(
                f"DELETE FROM context_attr_rollup WHERE tenant = :tenant AND entity_id IN ({placeholders}) "
                "AND period = 'day' AND start < :daily_cut"
            ),
            params,
        ).rowcount
    return raw, hourly, dropped
