"""Retention: compaction rolls history up without changing the aggregates, and can be interrupted."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Api

from cityos.context.jsonld import core_term_map
from cityos.context.temporal.retention import Policy, compact, set_policy
from cityos.core.timefmt import to_ms

T0 = datetime(2026, 11, 18, tzinfo=UTC)
NOW = to_ms("2026-11-21T00:00:00.000Z")
IDS = ["urn:ngsi-ld:AirQualityObserved:r1", "urn:ngsi-ld:AirQualityObserved:r2"]


def stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def load(api: Api) -> None:
    for n, eid in enumerate(IDS):
        series = [
            {"type": "Property", "value": (k * 13 + n * 7) % 97, "observedAt": stamp(T0 + timedelta(minutes=30 * k))}
            for k in range(144)
        ]  # three days, every half hour
        assert (
            api.post(
                "/ngsi-ld/v1/temporal/entities", json={"id": eid, "type": "AirQualityObserved", "pm25": series}
            ).status_code
            == 201
        )


def daily(api: Api, eid: str) -> dict[str, Any]:
    r = api.get(
        f"/ngsi-ld/v1/temporal/entities/{eid}",
        params={
            "attrs": "pm25",
            "options": "aggregatedValues",
            "aggrMethods": "totalCount,sum,avg,min,max,stddev,sumsq",
            "aggrPeriodDuration": "P1D",
            "timerel": "between",
            "timeAt": stamp(T0),
            "endTimeAt": stamp(T0 + timedelta(days=3)),
        },
    )
    assert r.status_code == 200, r.text
    return r.json()["pm25"]


def raw_count(api: Api, eid: str) -> int:
    return len(api.get(f"/ngsi-ld/v1/temporal/entities/{eid}", params={"attrs": "pm25"}).json().get("pm25", []))


def policy(tenant: str = "default") -> Policy:
    return Policy(tenant, core_term_map().expand("AirQualityObserved"), raw_days=1, hourly_days=2, daily_days=None)


def approx(agg: dict[str, Any]) -> dict[str, Any]:
    return {m: [[pytest.approx(v), s, e] for v, s, e in rows] for m, rows in agg.items() if m != "type"}


def test_compaction_keeps_aggregates_and_is_idempotent(api: Api) -> None:
    rt = api.client.app.state.runtime
    load(api)
    before = {eid: daily(api, eid) for eid in IDS}
    set_policy(rt, policy())
    report = compact(rt, now_ms=NOW)
    assert report.raw_rolled == 2 * 96 and report.hourly_rolled == 2 * 24  # two days rolled, one to daily
    for eid in IDS:
        assert raw_count(api, eid) == 48  # the last day stays raw
        assert approx(daily(api, eid)) == approx(before[eid])
    again = compact(rt, now_ms=NOW)
    assert (again.raw_rolled, again.hourly_rolled, again.daily_dropped) == (0, 0, 0)
    assert approx(daily(api, IDS[0])) == approx(before[IDS[0]])


def test_interrupted_compaction_resumes_without_loss(api: Api) -> None:
    rt = api.client.app.state.runtime
    load(api)
    before = {eid: daily(api, eid) for eid in IDS}
    set_policy(rt, policy())

    def stop_after_first(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        compact(rt, now_ms=NOW, chunk_size=1, progress=stop_after_first)
    assert [raw_count(api, eid) for eid in IDS] == [48, 144]  # one entity done, the other untouched
    compact(rt, now_ms=NOW, chunk_size=1)
    for eid in IDS:
        assert raw_count(api, eid) == 48
        assert approx(daily(api, eid)) == approx(before[eid])


def test_daily_rollups_are_dropped_past_their_horizon(api: Api) -> None:
    rt = api.client.app.state.runtime
    load(api)
    set_policy(rt, Policy("default", core_term_map().expand("AirQualityObserved"), 1, 2, 2))
    report = compact(rt, now_ms=NOW)
    assert report.daily_dropped == 2  # the first day, once rolled to daily, is past two days
    assert daily(api, IDS[0])["totalCount"][0][0] == 48  # the first day is gone; the second remains


def test_bad_policies_are_refused(api: Api) -> None:
    from cityos.context.errors import BadRequestData

    rt = api.client.app.state.runtime
    with pytest.raises(BadRequestData):
        set_policy(rt, Policy("default", "T", raw_days=10, hourly_days=5, daily_days=None))
    with pytest.raises(BadRequestData):
        set_policy(rt, Policy("default", "T", raw_days=1, hourly_days=5, daily_days=3))


def test_cli_sets_retention_and_compacts(tmp_path: Any) -> None:
    env = dict(os.environ, CITYOS_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    cli = [sys.executable, "-m", "cityos.cli", "history"]
    r = subprocess.run(
        [*cli, "retention", "AirQualityObserved", "--raw-days", "7", "--hourly-days", "90"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*cli, "compact"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "rolled up 0 raw instances" in r.stderr, r.stderr
    r = subprocess.run(
        [*cli, "retention", "AirQualityObserved", "--raw-days", "9", "--hourly-days", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "error:" in r.stderr
