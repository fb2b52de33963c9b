"""Releases through the gate, kept on both databases: a blocked release is stored with its offending
combinations and publishes nothing; fixed and checked again it is the next version, passed, with the hash of
what it publishes; the portal finds the latest (passed) one."""

from __future__ import annotations

import dataclasses
import importlib

import pytest
from gate_samples import RESIDENTS, SMALL, STATS, policy, residents, residents_policy, stats

from cityos import datahub, opendata
from cityos.opendata import content_hash
from cityos.runtime import Runtime

T = "default"


def test_a_blocked_release_is_kept_and_the_fixed_one_passes_as_the_next_version(rt: Runtime) -> None:
    assert opendata.latest_release(rt, T, RESIDENTS.code) is None
    blocked = opendata.check_release(rt, T, RESIDENTS, residents(), by="officer-a", policy=residents_policy(False))
    b = blocked.release
    assert (b.code, b.version, b.passed, b.by, b.records) == (RESIDENTS.code, 1, False, "officer-a", 410)
    assert blocked.records == []  # nothing to publish
    assert b.offending_total == len(b.offending) > 10 and b.reasons and b.quasi == ("gender", "birthDate", "address")
    assert any(g.values["address"] == SMALL and g.count == 1 for g in b.offending)
    assert b.removed == ("idCard", "name", "income") and b.generalised == ("address",)

    fixed = opendata.check_release(rt, T, RESIDENTS, residents(), by="officer-b", policy=residents_policy(True))
    f = fixed.release
    assert (f.version, f.passed, f.offending, f.reasons) == (2, True, (), ())
    assert f.content_hash == content_hash(fixed.records) and len(fixed.records) == 410
    assert f.generalised == ("birthDate", "address") and f.policy["generalise"]["birthDate"] == "years size=5"

    assert opendata.latest_release(rt, T, RESIDENTS.code) == f
    assert opendata.latest_release(rt, T, RESIDENTS.code, passed=False) == b
    page, total = opendata.releases(rt, T, RESIDENTS.code)
    assert [r.version for r in page] == [2, 1] and total == 2 and page[1] == b
    assert opendata.releases(rt, T, RESIDENTS.code, passed=True) == ([f], 1)
    assert opendata.releases(rt, "elsewhere", RESIDENTS.code) == ([], 0)


def test_an_aggregate_release_keeps_its_small_cells(rt: Runtime) -> None:
    flagging = policy(**{STATS.code: {"subject": "aggregates", "counts": ["residents"]}})
    blocked = opendata.check_release(rt, T, STATS, stats(small=2), by="t", policy=flagging)
    [cell] = blocked.release.small_cells
    assert (cell.row, cell.item, cell.count, cell.cell) == (4, "residents", 2, {"street": "外滩", "ageGroup": "18-59"})
    assert not blocked.release.passed and blocked.release.small_cells_total == 1
    suppressing = policy(**{STATS.code: {"subject": "aggregates", "counts": ["residents"], "suppress": True}})
    passed = opendata.check_release(rt, T, STATS, stats(small=2), by="t", policy=suppressing)
    assert passed.release.passed and passed.release.suppressed == 1 and passed.records[4]["residents"] == "<5"


def test_a_release_by_code_checks_the_entry_the_catalogue_holds_under_the_shipped_policy(rt: Runtime) -> None:
    demo = next(e for e in datahub.read_catalogue().entries if e.code == "HP-01-01-0003")
    datahub.register_entry(rt, T, demo, by="data-officer")
    changed = dataclasses.replace(demo, abstract="按街道、年龄段汇总的人口数。")
    datahub.change_entry(rt, T, changed, by="data-officer", reason="abstract")
    rows = [{**row, "registered": 100, "migrants": 3} for row in stats(small=2)]
    checked = opendata.check_release(rt, T, "HP-01-01-0003", rows, by="t")  # the shipped policy suppresses
    r = checked.release
    assert r.passed and r.entry_version == 2 and r.suppressed == 10 and r.policy["subject"] == "aggregates"
    assert checked.records[4] == {"street": "外滩", "ageGroup": "18-59", "residents": "<5", "registered": 100,
                                  "migrants": "<5"}  # fmt: skip
    with pytest.raises(datahub.EntryNotFound):
        opendata.check_release(rt, T, "HP-99-99-9999", [], by="t")


def test_many_offending_combinations_are_kept_up_to_a_limit_with_their_total(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the module, which the face's function of the same name hides
    monkeypatch.setattr(importlib.import_module("cityos.opendata.releases"), "MAX_KEPT", 3)
    b = opendata.check_release(rt, T, RESIDENTS, residents(), by="t", policy=residents_policy(False)).release
    assert len(b.offending) == 3 and b.offending_total > 3
