"""Feed runs as plain functions, on both databases, and the pure merge they make: a run interrupted midway
and run again leaves the state of an uninterrupted run, the records the first attempt committed reported
unchanged; a merge applies only the source's values (Hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from samples import person_entry

from cityos import context as hub
from cityos import datahub
from cityos.datahub import feeds
from cityos.datahub.registry import Plan, Slot, merge
from cityos.demo import registries as reg
from cityos.runtime import Runtime

T, CODE, SOURCE = "default", "HP-01-01-0001", "public-security"


class Interrupted(Exception):
    pass


def _state(rt: Runtime, tenant: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [hub.get_entity(rt, tenant, datahub.person_id(rt, r["idCard"])) for r in records]
    return {row.id: {a: i[0]["value"] for a, i in row.attrs.items()} for row in rows}


def test_an_interrupted_run_rerun_leaves_the_same_state(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    for tenant in (T, "clean"):
        datahub.register_entry(rt, tenant, person_entry(), by="data-officer")
    people = [{k: p[k] for k in ("idCard", "name", "registeredAddress")} for p in reg.persons(45)]
    monkeypatch.setattr(feeds, "CHUNK", 10)

    def stop(done: int) -> None:
        if done >= 10:
            raise Interrupted

    with pytest.raises(Interrupted):
        datahub.run_feed(rt, T, CODE, SOURCE, people, by="t", progress=stop)
    assert datahub.feed_runs(rt, T) == ([], 0)  # a run is stored when it ends
    again = datahub.run_feed(rt, T, CODE, SOURCE, people, by="t")
    committed = again.unchanged  # the chunks the interrupted run wrote: at least the first
    assert committed >= 10 and committed % 10 == 0 and (again.new, again.changed) == (45 - committed, 0)
    clean = datahub.run_feed(rt, "clean", CODE, SOURCE, people, by="t")
    assert clean.new == 45 and _state(rt, T, people) == _state(rt, "clean", people)
    third = datahub.run_feed(rt, T, CODE, SOURCE, people, by="t")
    assert (third.new, third.unchanged) == (0, 45) and _state(rt, T, people) == _state(rt, "clean", people)
    assert [r.id for r in datahub.feed_runs(rt, T, code=CODE)[0]] == [third.id, again.id]


PLAN = Plan("X", Slot("idCard", "idCard", "ps"), {"name": Slot("name", "name", "ps"), "m": Slot("m", "m", "ca")})
values = st.dictionaries(st.sampled_from(["name", "m"]), st.sampled_from(["a", "b"]))


@given(values, values, st.sampled_from(["ps", "ca", "hr"]))
def test_a_merge_applies_only_the_sources_values(offered: dict[str, str], held: dict[str, str], dept: str) -> None:
    out = merge(PLAN, dept, offered, held)
    for name, value in offered.items():
        slot = PLAN.slots[name]
        if slot.source == dept:
            assert out.apply[slot.attribute] == value
        else:
            assert slot.attribute not in out.apply
            assert ((name, slot.source, value) in out.conflicts) == (held.get(name) != value)
    assert out.differs == any(held.get(a) != v for a, v in out.apply.items())
