"""The demo's department feeds (数据归集, issue 18 item 6) on a smaller count: five departments' runs into the
persons registry find exactly the conflicts and rejections planted in them, the source's conflict list
counts them per item and per department, and loading again adds no run."""

from __future__ import annotations

from collections import Counter

from cityos import datahub
from cityos.demo.feeding import load_feeds
from cityos.demo.feeds import SOURCE, demo_feeds
from cityos.runtime import Runtime

T = "default"
ATTRIBUTE = {"partyAName": "name"}  # the civil affairs item's registry attribute; the others are named alike


def test_the_demo_feeds_find_exactly_what_was_planted(rt: Runtime) -> None:
    datahub.load_catalogue(rt, T, by="cityos-demo")
    feeds = demo_feeds(4000, avoid={"310101199001011234"})
    assert [f.department for f in feeds] == [SOURCE, "civil-affairs", "human-resources", "health", "street-office"]
    assert all(f.conflicts for f in feeds[1:]) and feeds[0].rejections and feeds[-1].rejections
    runs = load_feeds(rt, T, feeds)
    assert [(r.department, r.code) for r in runs] == [(f.department, f.code) for f in feeds]
    for feed, run in zip(feeds, runs, strict=True):
        got = datahub.get_feed_run(rt, T, run.id, limit=10_000)
        assert {(c.record, c.item) for c in got.conflicts} == feed.conflicts, feed.department
        assert tuple(r.line for r in got.rejections) == feed.rejections, feed.department
        assert (got.records, got.conflicting, got.rejected) == (
            len(feed.records), len(feed.conflicts), len(feed.rejections))  # fmt: skip
        fed = got.records - got.rejected - got.conflicting
        assert (got.new, got.changed, got.unchanged) == ((fed, 0, 0) if feed.department == SOURCE else (0, fed, 0))

    found = datahub.open_conflicts(rt, T, SOURCE, limit=10_000)
    planted = {(f.department, key, ATTRIBUTE.get(item, item)) for f in feeds for key, item in f.conflicts}
    assert {(c.department, c.record, c.item) for c in found.conflicts} == planted and found.total == len(planted)
    assert found.by_department == dict(Counter(d for d, _, _ in planted))
    assert found.by_item == dict(Counter(i for _, _, i in planted))
    assert load_feeds(rt, T, feeds) == []  # each department's run is there already
