"""Every attribute change keeps an instance, in the same transaction as the current state."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from conftest import Api
from sqlalchemy import select, text

from cityos.context import BadRequestData, EntityRow, core_term_map, m_merge, m_set_values, parse_entity
from cityos.context.tables import attr_history
from cityos.context.temporal.history import changed_instances
from cityos.core.timefmt import from_ms, to_ms
from cityos.runtime import Runtime

VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
URL = "/ngsi-ld/v1/entities"


def history(api: Api) -> list[tuple[str, str, str, Any]]:
    rt = api.client.app.state.runtime
    with rt.db.connect() as conn:
        # the vital-sign engine in the API writes indicator values as KeyPerformanceIndicator entities: not these
        mine = attr_history.c.entity_id.not_like("urn:ngsi-ld:KeyPerformanceIndicator:%")
        rows = conn.execute(select(attr_history).where(mine).order_by(attr_history.c.attr, attr_history.c.ts))
        return [(r.attr.removeprefix(VOCAB), r.dataset_id, from_ms(r.ts), r.instance.get("value")) for r in rows]


def test_timestamps_round_trip() -> None:
    for stamp in ("1970-01-01T00:00:00.000Z", "2026-11-21T08:00:00.123Z", "2026-12-31T23:59:59.999Z"):
        assert from_ms(to_ms(stamp)) == stamp
    assert to_ms("1970-01-01T00:00:01.000Z") == 1000


def test_changes_are_kept_and_replays_are_not_doubled(api: Api) -> None:
    e = {
        "id": "urn:ngsi-ld:AirQualityObserved:h1",
        "type": "AirQualityObserved",
        "pm25": {"type": "Property", "value": 35, "observedAt": "2026-11-21T08:00:00Z"},
        "name": {"type": "Property", "value": "外滩空气站"},
    }
    assert api.post(URL, json=e).status_code == 201
    rows = history(api)
    assert [(a, t, v) for a, _, t, v in rows if a == "pm25"] == [("pm25", "2026-11-21T08:00:00.000Z", 35)]
    assert [a for a, *_ in rows] == ["name", "pm25"]  # every attribute of a new entity

    reading = {"value": 41, "observedAt": "2026-11-21T08:05:00Z"}
    assert api.patch(f"{URL}/{e['id']}/attrs/pm25", json=reading).status_code == 204
    assert api.patch(f"{URL}/{e['id']}/attrs/pm25", json=reading).status_code == 204  # a retried message
    pm = [(t, v) for a, _, t, v in history(api) if a == "pm25"]
    assert pm == [("2026-11-21T08:00:00.000Z", 35), ("2026-11-21T08:05:00.000Z", 41)]

    # re-sending the same value without observedAt is not a change; a new value is, at write time
    api.patch(f"{URL}/{e['id']}/attrs/name", json={"value": "外滩空气站"})
    assert len([a for a, *_ in history(api) if a == "name"]) == 1
    api.patch(f"{URL}/{e['id']}/attrs/name", json={"value": "外滩站"})
    names = [v for a, _, _t, v in history(api) if a == "name"]
    assert names == ["外滩空气站", "外滩站"]

    # deleting the entity keeps its history (the temporal API owns it)
    assert api.delete(f"{URL}/{e['id']}").status_code == 204
    assert len(history(api)) == 4


def test_instances_by_dataset_id_have_their_own_history(api: Api) -> None:
    e = {
        "id": "urn:ngsi-ld:AirQualityObserved:h2",
        "type": "AirQualityObserved",
        "pm25": [
            {
                "type": "Property",
                "value": 30,
                "observedAt": "2026-11-21T08:00:00Z",
                "datasetId": "urn:ngsi-ld:Dataset:station",
            },
            {
                "type": "Property",
                "value": 50,
                "observedAt": "2026-11-21T08:00:00Z",
                "datasetId": "urn:ngsi-ld:Dataset:satellite",
            },
        ],
    }
    api.post(URL, json=e)
    api.patch(
        f"{URL}/{e['id']}/attrs/pm25",
        json={"value": 31, "observedAt": "2026-11-21T09:00:00Z", "datasetId": "urn:ngsi-ld:Dataset:station"},
    )
    rows = [(ds.rsplit(":", 1)[-1], t[11:16], v) for a, ds, t, v in history(api)]
    assert sorted(rows) == [("satellite", "08:00", 50), ("station", "08:00", 30), ("station", "09:00", 31)]


def test_history_of_a_failed_batch_item_is_not_written(api: Api) -> None:
    ok = {"id": "urn:ngsi-ld:Streetlight:ok", "type": "Streetlight", "powerState": {"type": "Property", "value": "on"}}
    r = api.post("/ngsi-ld/v1/entityOperations/create", json=[ok, {"id": "bad id", "type": "Streetlight"}])
    assert r.status_code == 207
    assert [a for a, *_ in history(api)] == ["powerState"]


def test_postgresql_puts_rows_in_month_partitions(api: Api) -> None:
    rt = api.client.app.state.runtime
    if rt.db.is_sqlite:
        return  # SQLite has no partitions; the same test runs on PostgreSQL
    for month in ("2026-10-15T00:00:00Z", "2026-11-15T00:00:00Z"):
        api.post(
            URL,
            json={
                "id": f"urn:ngsi-ld:T:{month[:7]}",
                "type": "T",
                "v": {"type": "Property", "value": 1, "observedAt": month},
            },
        )
    with rt.db.connect() as conn:
        parts = conn.execute(
            text("SELECT tableoid::regclass::text, count(*) FROM context_attr_history GROUP BY 1 ORDER BY 1")
        ).all()
    assert parts == [("context_attr_history_y2026m10", 1), ("context_attr_history_y2026m11", 1)]


def test_concurrent_changes_of_one_attribute_in_one_millisecond_are_all_kept(rt: Runtime) -> None:
    """8 writers × 500 changes of one attribute: 4,000 history instances, none lost to another of the same
    millisecond (they are keyed by the write time when they carry no observedAt)."""
    from cityos import context

    entity = "urn:ngsi-ld:Counter:race"
    tm = context.core_term_map()
    body = {"id": entity, "type": "Counter", "n": {"type": "Property", "value": -1}}
    context.one(rt, rt.settings.default_tenant, entity, context.m_create(context.parse_entity(body, tm, now="")))

    def writer(w: int) -> None:
        for n in range(500):
            change = {"n": {"type": "Property", "value": w * 1000 + n}}
            parsed = context.parse_entity(change, tm, now="", need_id=False, need_type=False)
            parsed.id = entity
            context.one(rt, rt.settings.default_tenant, entity, context.m_merge(parsed))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with rt.db.connect() as conn:
        kept = conn.execute(
            select(attr_history.c.instance).where(attr_history.c.entity_id == entity, attr_history.c.attr.like("%/n"))
        ).scalars()
        values = sorted(i["value"] for i in kept)
    assert values == sorted([-1] + [w * 1000 + n for w in range(8) for n in range(500)])


def test_an_instance_of_a_change_in_a_busy_millisecond_is_found_by_its_id(api: Api) -> None:
    e = {"id": "urn:ngsi-ld:Counter:busy", "type": "Counter", "n": {"type": "Property", "value": 0}}
    assert api.post(URL, json=e).status_code == 201
    for n in (1, 2, 3):
        assert api.patch(f"{URL}/{e['id']}/attrs/n", json={"value": n}).status_code == 204
    got = api.get(f"/ngsi-ld/v1/temporal/entities/{e['id']}").json()["n"]
    assert [i["value"] for i in got] == [0, 1, 2, 3]
    ids = [i["instanceId"] for i in got]
    assert len(set(ids)) == 4
    r = api.patch(f"/ngsi-ld/v1/temporal/entities/{e['id']}/attrs/n/{ids[2]}", json={"value": 20})
    assert r.status_code == 204, r.text
    assert api.delete(f"/ngsi-ld/v1/temporal/entities/{e['id']}/attrs/n/{ids[1]}").status_code == 204
    after = api.get(f"/ngsi-ld/v1/temporal/entities/{e['id']}").json()["n"]
    assert [i["value"] for i in after] == [0, 20, 3]


def _merged_both_ways(cur: EntityRow | None, values: dict[str, Any]) -> tuple[Any, Any]:
    """The entity and the history rows a Merge Entity of ``values`` as Properties leaves, and those m_set_values
    leaves (the feeds' fast path), at the same time, from copies of ``cur``."""
    tm, now = core_term_map(), "2026-12-07T06:00:00.000Z"
    body = {"id": "urn:ngsi-ld:Person:p1", "type": "Person", **{k: {"type": "Property", "value": v}
                                                                  for k, v in values.items()}}  # fmt: skip
    parsed = parse_entity(body, tm, now=now)
    slow = m_merge(parsed, create=True)(copy.deepcopy(cur), now)
    rows = changed_instances(parsed.id or "", cur.attrs if cur else None, slow.row.attrs, slow.changed, now)  # type: ignore[union-attr]
    fast = m_set_values(parsed.id or "", parsed.types, {tm.expand(k): v for k, v in values.items()})(
        copy.deepcopy(cur), now
    )
    assert fast.history_complete
    return (slow.row, sorted(rows, key=str)), (fast.row, sorted(fast.extra_history, key=str))


def test_set_values_leaves_what_a_merge_of_the_same_properties_leaves() -> None:
    held = {
        f"{VOCAB}name": [{"type": "Property", "value": "张伟", "createdAt": "2026-01-01T00:00:00.000Z",
                          "modifiedAt": "2026-01-01T00:00:00.000Z", f"{VOCAB}note": {"type": "Property", "value": 1}},
                         {"type": "Property", "value": "Zhang Wei", "datasetId": "urn:ngsi-ld:Dataset:en",
                          "createdAt": "2026-01-01T00:00:00.000Z", "modifiedAt": "2026-01-01T00:00:00.000Z"}],
        f"{VOCAB}floors": [{"type": "Property", "value": 3, "observedAt": "2026-02-01T00:00:00.000Z",
                            "createdAt": "2026-01-01T00:00:00.000Z", "modifiedAt": "2026-01-01T00:00:00.000Z"}],
    }  # fmt: skip
    cur = EntityRow(1, "urn:ngsi-ld:Person:p1", [f"{VOCAB}Person"], None, held, "2026-01-01T00:00:00.000Z",
                    "2026-01-01T00:00:00.000Z")  # fmt: skip
    changes = {"name": "张玮", "floors": 3, "address": {"streetAddress": "中山东一路1号"}}
    for start, values in ((None, changes), (cur, changes), (cur, {"floors": 4}), (cur, {"floors": 3})):
        slow, fast = _merged_both_ways(start, values)
        assert fast == slow
    (_, rows), _ = _merged_both_ways(cur, {"floors": 3})
    assert rows == []  # a value equal to the one held is no change to keep


def test_set_values_refuses_a_nul() -> None:
    with pytest.raises(BadRequestData, match="U\\+0000"):
        m_set_values("urn:ngsi-ld:Person:p1", ["Person"], {"name": "a\x00b"})(None, "2026-12-07T06:00:00.000Z")
