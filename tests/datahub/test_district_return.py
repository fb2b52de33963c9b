"""The district return (数据属地返还) as plain functions, on both databases: records concerning the district by
address and by geometry returned, a change picked up by the next incremental run with nothing else touched, a
record that left the district removed, reruns idempotent, and bad input refused with its problem type."""

from __future__ import annotations

from typing import Any

import pytest
from samples import lights_entry, person_entry

from cityos import context as hub
from cityos import datahub
from cityos.core.timefmt import now_iso
from cityos.datahub.errors import InvalidReturn, ReturnConflict, UnknownTenant
from cityos.datahub.return_runner import ReturnRunner
from cityos.runtime import Runtime

CITY, DISTRICT = "default", "huangpu"
PERSONS, LIGHTS = "HP-01-01-0001", "HP-04-01-0001"
AREA = {"type": "Polygon", "coordinates": [[[121.46, 31.20], [121.51, 31.20], [121.51, 31.25], [121.46, 31.25],
                                            [121.46, 31.20]]]}  # fmt: skip
INSIDE, OUTSIDE = [121.48, 31.23], [121.40, 31.23]
pytestmark = pytest.mark.settings(return_overlap_seconds=0)


def _put(rt: Runtime, tenant: str, body: dict[str, Any]) -> None:
    tm = hub.core_term_map()
    hub.one(rt, tenant, body["id"], hub.m_replace(hub.parse_entity(body, tm, now=now_iso()), create=True), creates=True)


def _person(n: int, address: str, name: str = "张三") -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:Person:{n}", "type": "Person", "name": {"type": "Property", "value": name},
            "registeredAddress": {"type": "Property", "value": address},
            "note": {"type": "Property", "value": "not an item of the entry"}}  # fmt: skip


def _light(n: int, where: list[float], status: str = "on") -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:Streetlight:{n}", "type": "Streetlight",
            "status": {"type": "Property", "value": status},
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": where}}}  # fmt: skip


def _held(rt: Runtime) -> set[str]:
    tm = hub.core_term_map()
    return {r.id for t in ("Person", "Streetlight") for r in hub.entities_of_types(rt, DISTRICT, [t], tm)}


def _counts(run: datahub.ReturnRun) -> tuple[int, int, int, int, int]:
    return run.read, run.new, run.changed, run.removed, run.unchanged


@pytest.fixture
def city(rt: Runtime) -> Runtime:
    datahub.register_entry(rt, CITY, person_entry(backing=datahub.Backing(entity_types=("Person",))), by="t")
    datahub.register_entry(rt, CITY, lights_entry(backing=datahub.Backing(entity_types=("Streetlight",))), by="t")
    _put(rt, CITY, {"id": "urn:ngsi-ld:District:huangpu", "type": "District",
                    "location": {"type": "GeoProperty", "value": AREA}})  # fmt: skip
    _put(rt, DISTRICT, {"id": "urn:ngsi-ld:District:huangpu", "type": "District"})  # the district's tenant is made
    _put(rt, CITY, _person(1, "上海市黄浦区南京东路100号"))
    _put(rt, CITY, _person(2, "上海市静安区南京西路1号"))
    _put(rt, CITY, _light(1, INSIDE))
    _put(rt, CITY, _light(2, OUTSIDE))
    return rt


def test_a_district_gets_what_concerns_it_and_the_next_run_only_what_changed(city: Runtime) -> None:
    rt = city
    grant = datahub.make_return(rt, DISTRICT, "黄浦区", [PERSONS, LIGHTS], by="admin",
                                area_entity="urn:ngsi-ld:District:huangpu")  # fmt: skip
    chain = datahub.chain_length(rt)
    first = datahub.run_return(rt, grant.id, by="admin")
    assert first.full and _counts(first) == (4, 2, 0, 0, 0)
    assert _held(rt) == {"urn:ngsi-ld:Person:1", "urn:ngsi-ld:Streetlight:1"}
    copy = hub.get_entity(rt, DISTRICT, "urn:ngsi-ld:Person:1")
    assert not any(a.endswith("note") for a in copy.attrs)  # cut to the entry's items
    assert datahub.chain_length(rt) == chain + 2  # one audited read per entry's chunk, by the district
    assert datahub.get_entry(rt, DISTRICT, PERSONS).code == PERSONS  # its catalogue governs the district's reads

    _put(rt, CITY, _person(1, "上海市黄浦区南京东路100号", name="张三丰"))
    second = datahub.run_return(rt, grant.id, by="admin")
    assert not second.full and second.since == first.watermark
    assert _counts(second) == (1, 0, 1, 0, 0)  # the one change read and written, nothing else touched
    name = hub.get_entity(rt, DISTRICT, "urn:ngsi-ld:Person:1").attrs[hub.core_term_map().expand("name")]
    assert name[0]["value"] == "张三丰"

    assert _counts(datahub.run_return(rt, grant.id, by="admin")) == (0, 0, 0, 0, 0)  # idempotent
    again = datahub.run_return(rt, grant.id, by="admin", full=True)
    assert _counts(again) == (4, 0, 0, 0, 2) and _held(rt) == {"urn:ngsi-ld:Person:1", "urn:ngsi-ld:Streetlight:1"}
    runs, total = datahub.return_runs(rt, grant.id)
    assert total == 4 and runs[0].id == again.id


def test_a_record_that_leaves_the_district_or_the_city_is_removed(city: Runtime) -> None:
    rt = city
    grant = datahub.make_return(rt, DISTRICT, "黄浦区", [PERSONS, LIGHTS], by="admin", area=AREA)
    datahub.run_return(rt, grant.id, by="admin")
    _put(rt, CITY, _light(1, OUTSIDE))  # moved out
    _put(rt, CITY, _person(2, "上海市黄浦区淮海中路2号"))  # moved in
    moved = datahub.run_return(rt, grant.id, by="admin")
    assert _counts(moved) == (2, 1, 0, 1, 0) and _held(rt) == {"urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"}
    hub.one(rt, CITY, "urn:ngsi-ld:Person:1", hub.m_delete("urn:ngsi-ld:Person:1"))
    assert _counts(datahub.run_return(rt, grant.id, by="admin")) == (0, 0, 0, 0, 0)  # a deletion has no modifiedAt
    full = datahub.run_return(rt, grant.id, by="admin", full=True)  # a full run finds what the city no longer has
    assert (full.removed, full.unchanged) == (1, 1) and _held(rt) == {"urn:ngsi-ld:Person:2"}
    ended = datahub.end_return(rt, grant.id, by="admin", reason="区划调整")
    assert ended.state == "ended" and _held(rt) == set()
    with pytest.raises(ReturnConflict):
        datahub.run_return(rt, grant.id, by="admin")


def test_bad_return_grants_are_refused(city: Runtime) -> None:
    rt = city
    with pytest.raises(UnknownTenant):
        datahub.make_return(rt, "nowhere", "黄浦区", [PERSONS], by="admin")
    with pytest.raises(datahub.EntryNotFound):
        datahub.make_return(rt, DISTRICT, "黄浦区", ["HP-99-99-9999"], by="admin")
    with pytest.raises(InvalidReturn):
        datahub.make_return(
            rt, DISTRICT, "黄浦区", [PERSONS], by="admin", area={"type": "Point", "coordinates": [1, 2]}
        )
    with pytest.raises(InvalidReturn):
        datahub.make_return(rt, CITY, "黄浦区", [PERSONS], by="admin")
    datahub.make_return(rt, DISTRICT, "黄浦区", [PERSONS], by="admin")
    with pytest.raises(ReturnConflict):
        datahub.make_return(rt, DISTRICT, "黄浦区", [LIGHTS, PERSONS], by="admin")


def test_the_runner_runs_every_standing_grant(city: Runtime) -> None:
    rt = city
    grant = datahub.make_return(rt, DISTRICT, "黄浦区", [PERSONS, LIGHTS], by="admin", area=AREA)
    ReturnRunner(rt).tick()  # one round, as the runner takes it every CITYOS_RETURN_EVERY_SECONDS
    runs, total = datahub.return_runs(rt, grant.id)
    assert total == 1 and runs[0].by == "return-runner" and runs[0].new == 2
