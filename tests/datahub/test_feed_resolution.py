"""A feed whose records carry no registry key (a street office's list of the enterprises it visited, by name,
domicile and legal representative, spelt as the office spells them) is resolved to the legal entities
registry (实体识别): a record matched for certain feeds its own items into that entity; the others are
rejected with the kept decision that says why (review: settle it; new: only the key's source registers one);
the identifying items are not offered as values, so a variant spelling is no conflict; a rerun changes
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from cityos import context as hub
from cityos import datahub
from cityos.demo import registries as reg
from cityos.runtime import Runtime

T = "default"
VISITS = "HP-02-09-0001"  # 街道企业走访名录: the demo catalogue's keyless entry
OFFICE = "street-office"
MR = "market-regulation"


def _grid_contacts(rt: Runtime) -> dict[str, Any]:
    tm = hub.term_map(rt)
    out = {}
    for chunk in hub.entities_changed(rt, T, "Organization", tm):
        for row in chunk:
            values = hub.key_values(row.id, row.types, row.attrs, tm)
            if "gridContact" in values:
                out[row.id] = values["gridContact"]
    return out


@pytest.fixture
def registry(rt: Runtime) -> reg.ResolutionCase:
    datahub.load_catalogue(rt, T, by="cityos-demo")
    case = reg.resolution_case(count=300, feed=80, seed=5)
    items = ("creditCode", "name", "kind", "legalRepresentative", "domicile", "foundedOn")
    run = datahub.run_feed(rt, T, "HP-02-01-0001", MR, [{k: e[k] for k in items} for e in case.registry], by="t")
    assert run.new == 300
    return case


def test_a_keyless_feed_feeds_only_the_records_resolved_for_certain(rt: Runtime, registry: reg.ResolutionCase) -> None:
    case = registry
    records = [{"name": r["name"], "domicile": r["address"], "gridContact": f"网格员{n:03d}",
                **({"legalRepresentative": r["legalRepresentative"]} if "legalRepresentative" in r else {})}
               for n, r in enumerate(case.feed)]  # fmt: skip
    run = datahub.run_feed(rt, T, VISITS, OFFICE, records, by="officer")
    assert run.records == 80 and run.conflicting == 0  # a variant spelling of the name is no conflict
    assert run.new == 0  # resolution never makes an entity: only the key's source registers one
    credit = {e["id"]: e["creditCode"] for e in case.registry}
    applied = _grid_contacts(rt)
    assert len(applied) == run.changed == 80 - run.rejected
    truth_of = {f"网格员{n:03d}": t for n, t in enumerate(case.truth)}
    # nothing wrongly merged: every contact fed landed on the entity its record truly is
    assert all(eid == f"urn:ngsi-ld:Organization:{credit[truth_of[c]]}" for eid, c in applied.items() if truth_of[c])
    assert all(truth_of[c] is not None for c in applied.values())
    assert len(applied) >= 0.85 * sum(t is not None for t in case.truth)  # most true matches resolved for certain
    rejected_lines = {r.line for r in run.rejections}
    assert all(case.truth[line] is None or "POST /datahub/resolutions/" in reason
               for line, reason in ((r.line, r.reason) for r in run.rejections))  # fmt: skip
    assert all("resolution" in r.reason for r in run.rejections)
    reviews, _ = datahub.list_resolutions(rt, T, decision="review", limit=100)
    assert {d.line for d in reviews} <= rejected_lines

    again = datahub.run_feed(rt, T, VISITS, OFFICE, records, by="officer")
    assert (again.changed, again.unchanged, again.rejected) == (0, run.changed, run.rejected)
