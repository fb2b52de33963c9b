"""The demo's feeds into the legal entities and places registries (issue 18 item 6) on a smaller count:
market regulation registers the enterprises, tax's and human resources' runs find exactly the name
disagreements planted, the street office's keyless visits list is resolved to the registered enterprises,
planning's buildings and addresses merge into the district's own buildings, and housing's floors conflict
exactly where planted."""

from __future__ import annotations

from cityos import context as hub
from cityos import datahub
from cityos.core.timefmt import now_iso
from cityos.demo.district import build_district
from cityos.demo.feeding import load_feeds
from cityos.demo.feeds import registry_feeds
from cityos.runtime import Runtime

T = "default"


def test_the_registry_feeds_find_exactly_what_was_planted(rt: Runtime) -> None:
    district = build_district(sensors=13)
    tm = hub.term_map(rt)
    hub.apply(rt, T, [(e["id"], hub.m_merge(hub.parse_entity(e, tm, now=now_iso()), create=True)) for e in district
                      if e["type"] == "Building"], creates=True)  # fmt: skip
    buildings = sum(1 for e in district if e["type"] == "Building")
    datahub.load_catalogue(rt, T, by="cityos-demo")
    feeds = registry_feeds(400)
    runs = load_feeds(rt, T, feeds)
    assert [(r.department, r.code) for r in runs] == [(f.department, f.code) for f in feeds]
    by_code = {r.code: r for r in runs}
    assert by_code["HP-02-01-0001"].new == 400
    for feed in feeds:
        got = datahub.get_feed_run(rt, T, by_code[feed.code].id, limit=10_000)
        assert {(c.record, c.item) for c in got.conflicts} == feed.conflicts, feed.code
    assert by_code["HP-02-04-0001"].conflicting > 0 and by_code["HP-08-05-0001"].conflicting > 0
    visits = by_code["HP-02-09-0001"]
    assert visits.changed >= 0.9 * visits.records and visits.changed + visits.rejected == visits.records
    # the places registry merged into the district's buildings: no Building made, each one's address set
    assert (by_code["HP-03-03-0001"].new, by_code["HP-03-03-0001"].changed) == (0, buildings)
    rows = [r for chunk in hub.entities_changed(rt, T, "Building", tm) for r in chunk]
    assert len(rows) == buildings
    assert load_feeds(rt, T, feeds) == []  # each department's run is there already
