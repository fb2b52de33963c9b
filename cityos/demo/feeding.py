"""The demo's feeds, run: each department's feed of :mod:`cityos.demo.feeds` through the same service a
department's push takes, public security's first, then the legal entities' and places' registries. In
``cityos demo`` they run in the background once the dashboard is up (a 100,000-person feed takes about
30 s): the feeds page shows each run as it lands, and ``GET /health`` lists them as loading until the last
has. A feed whose run is stored already is not run
again, so the second start of a demo adds nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection

from cityos import datahub
from cityos.datahub import FeedRun
from cityos.demo.feeds import PERSONS, DemoFeed, demo_feeds, policy_feeds, registry_feeds
from cityos.runtime import Runtime

log = logging.getLogger(__name__)
BY = "cityos-demo"


class Stopped(Exception):
    """The demo is stopping: a run stops between chunks (those written are kept; a rerun reports them unchanged)."""


def load_feeds(
    rt: Runtime,
    tenant: str,
    feeds: list[DemoFeed],
    *,
    landed: Callable[[DemoFeed, FeedRun], None] | None = None,
    stop: threading.Event | None = None,
) -> list[FeedRun]:
    """Run each feed whose department has no run of its entry yet, in order: the runs made."""
    made = []
    for feed in feeds:
        if datahub.feed_runs(rt, tenant, department=feed.department, code=feed.code, limit=1)[1]:
            continue

        def check(_done: int) -> None:
            if stop is not None and stop.is_set():
                raise Stopped

        run = datahub.feed_and_settle(rt, tenant, feed.code, feed.department, feed.records, by=BY, progress=check)
        made.append(run)
        if landed is not None:
            landed(feed, run)
    return made


class DemoFeeding:
    """A companion of the demo's API: the demo feeds in a thread of their own, after the API started."""

    def __init__(self, rt: Runtime, persons: int = PERSONS, avoid: Collection[str] = (),
                 say: Callable[[str], None] = log.info) -> None:  # fmt: skip
        self.rt, self.persons, self.avoid, self.say = rt, persons, avoid, say
        self.entities = max(100, persons // 5)  # 20,000 enterprises beside 100,000 persons (the figures)
        self.loading: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.persons <= 0:
            return
        self.loading = (f"demo feeds into the base registries ({self.persons:,} persons, "
                        f"{self.entities:,} enterprises, the district's buildings)")  # fmt: skip
        self._thread = threading.Thread(target=self._run, name="demo-feeds", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tenant = self.rt.settings.default_tenant
        try:
            feeds = demo_feeds(self.persons, avoid=self.avoid) + policy_feeds(self.persons, avoid=self.avoid)
            made = load_feeds(self.rt, tenant, feeds, landed=self._landed, stop=self._stop)
            made += load_feeds(self.rt, tenant, registry_feeds(self.entities), landed=self._landed, stop=self._stop)
            for run in made:  # loading until the quality runs of the feeds, made in the background, are done too
                datahub.wait_for_quality(self.rt, tenant, run.id)
        except Stopped:
            return
        except Exception as exc:  # the demo serves on without them: say why (an older ./var's catalogue, say)
            log.exception("the demo feeds stopped")
            self.say(f"[red]演示数据归集中止 the demo feeds stopped[/]: {getattr(exc, 'detail', None) or exc!r}")
        finally:
            self.loading = None

    def _landed(self, feed: DemoFeed, run: FeedRun) -> None:
        self.say(f"数据归集 Feed {feed.code} ({feed.department}): {run.records:,} records, {run.new:,} new, "
                 f"{run.changed:,} changed, {run.conflicting:,} conflicting, {run.rejected:,} rejected")  # fmt: skip

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
