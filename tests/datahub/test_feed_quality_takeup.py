"""A feed run's quality run is not lost when the process that took the feed stops before making it (issue 18
item 3), on both databases: a subprocess that took a feed is SIGKILLed while the run's quality is pending (as
tests/iot/test_ingest_crash.py kills an ingest process); two runtimes starting together take it up, one of them
makes it once, and the report is the one a run made in place gives. The claim itself: one process's until its
lease runs out, then the taker's, the loser storing nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from conftest import wait_for

from cityos import datahub
from cityos.bus.memory import MemoryBus
from cityos.config import Settings
from cityos.datahub import feed_quality
from cityos.datahub import feed_store as store
from cityos.datahub.feed_tables import feed_quality_jobs
from cityos.datahub.quality_ops import after_feed
from cityos.datahub.quality_runs import get_quality_run, list_runs, stored_failures
from cityos.demo import registries as reg
from cityos.runtime import Runtime
from cityos.store.engine import Database

CODE, SOURCE = "HP-01-01-0001", "public-security"  # the demo catalogue's persons register, with quality rules
ITEMS = ("idCard", "name", "gender", "birthDate", "mobile", "registeredAddress")
LEASE = 2.0  # seconds: the killed feeder's claim runs out soon

# The process that takes the feed: the real runtime and feed, its one quality thread kept busy first, so that
# the feed's quality run is still queued (pending, its claim renewed) when the test kills the process.
FEEDER = """
import json, sys, threading
from cityos import datahub
from cityos.datahub import feed_quality
from cityos.runtime import Runtime

rt = Runtime.open()
feed_quality.part(rt)._pool.submit(threading.Event().wait)
records = json.loads(open(sys.argv[1], encoding="utf-8").read())
run = datahub.run_feed(rt, "default", sys.argv[2], sys.argv[3], records, by="feeder")
print(run.id, flush=True)
threading.Event().wait()
"""


def _runtime(db_url: str, data_dir: Path) -> Runtime:
    settings = Settings(database_url=db_url, data_dir=data_dir, feed_quality_lease_seconds=LEASE)
    return Runtime(settings, Database(db_url), MemoryBus())


def _feed_and_die(db_url: str, data_dir: Path, records: list[dict[str, Any]]) -> str:
    """Feed ``records`` in a subprocess, SIGKILL it once the run is stored with its quality pending: the run."""
    path = data_dir / "records.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ, CITYOS_DATABASE_URL=db_url, CITYOS_DATA_DIR=str(data_dir),
               CITYOS_FEED_QUALITY_LEASE_SECONDS=str(LEASE))  # fmt: skip
    log = data_dir / "feeder.log"
    feeder = subprocess.Popen([sys.executable, "-c", FEEDER, str(path), CODE, SOURCE], env=env,
                              stdout=subprocess.PIPE, stderr=log.open("ab"))  # fmt: skip
    try:
        assert feeder.stdout is not None
        run_id = feeder.stdout.readline().decode().strip()
        assert run_id, log.read_text()
    finally:
        feeder.send_signal(signal.SIGKILL)
        feeder.wait(30)
    return run_id


def _report(rt: Runtime, run_id: str) -> tuple[Any, ...]:
    """A quality run's report: its scores, each rule's counts and every failure (the run's id and time aside)."""
    run = get_quality_run(rt, "default", run_id)
    failures, total = stored_failures(rt, "default", run_id, limit=100_000)
    assert total == len(failures)
    return (run.dataset, run.records, run.score, run.dimensions, run.results, run.trigger, run.by,
            run.feed_run, sorted(failures, key=lambda f: (f.rule, f.record)))  # fmt: skip


def test_a_killed_feeders_quality_run_is_taken_up_once_with_the_report_made_in_place(
    db: Database, tmp_path: Path
) -> None:
    here = _runtime(db.url, tmp_path)
    datahub.load_catalogue(here, "default")
    people = reg.persons(300)  # fictitious, with planted defects: the report has failures to compare
    records = [{k: p[k] for k in ITEMS if k in p} for p in people] + [{"idCard": "31010119900101123X", "name": ""}]
    run_id = _feed_and_die(db.url, tmp_path, records)
    killed = datahub.get_feed_run(here, "default", run_id, limit=0)
    assert (killed.quality, killed.quality_run, killed.records) == ("pending", None, len(records))
    with db.connect() as conn:
        assert store.job_records(conn, "default", run_id) is not None  # its records kept until it is made

    takers = [_runtime(db.url, tmp_path) for _ in range(2)]
    runners = [feed_quality.TakeUp(rt) for rt in takers]
    starting = [threading.Thread(target=r.start) for r in runners]  # two processes starting together
    try:
        for t in starting:
            t.start()
        for t in starting:
            t.join()
        done = wait_for(lambda: _made(here, run_id), 120, what=lambda: datahub.get_feed_run(here, "default", run_id))
    finally:
        for r in runners:
            r.close()
        for rt in takers:
            rt.close()  # waits for what each queued
    assert done.quality == "done" and done.quality_taken_up is not None
    made, total = list_runs(here, "default", feed_run=run_id)
    assert total == 1 and made[0].id == done.quality_run  # made once
    with db.connect() as conn:
        assert store.job_records(conn, "default", run_id) is None  # the records kept for it are gone
    # the same report as a run made in place, by the process that took the feed, gives (the registry unchanged)
    in_place = after_feed(here, "default", CODE, run_id, "feeder", records)
    assert in_place is not None
    taken = _report(here, str(done.quality_run))
    assert taken == _report(here, in_place)
    assert any(r.failed for r in taken[4])  # a report with failures in it, not an empty one
    here.close()


def _made(rt: Runtime, run_id: str) -> datahub.FeedRun | None:
    run = datahub.get_feed_run(rt, "default", run_id, limit=0)
    return run if run.quality != "pending" else None


def _pending_run(db: Database, *, lease_ms: int, attempts: int = 1) -> None:
    """Feed run r1 stored with its quality pending, claimed by process "a" until ``lease_ms``."""
    run = {"tenant": "default", "id": "r1", "code": CODE, "department": SOURCE, "by": "feeder", "at": "2026-12-07",
           "at_ms": 1, "records": 1, "rejected": 0, "new": 1, "changed": 0, "unchanged": 0, "conflicting": 0,
           "quality": "pending"}  # fmt: skip
    job = {"tenant": "default", "run_id": "r1", "at_ms": 1, "owner": "a", "lease_ms": lease_ms, "attempts": attempts,
           "records": feed_quality.pack([{"idCard": "x"}])}  # fmt: skip
    db.run_write(lambda c: store.insert_run(c, run, [], [], job))


def test_a_claim_is_its_holders_until_its_lease_runs_out_then_the_takers(db: Database) -> None:
    _pending_run(db, lease_ms=2_000)
    with db.begin() as c:
        assert store.claim(c, "default", "r1", "b", now_ms=1_000, lease_ms=9_000) is None  # a's lease holds
        assert store.renew(c, "a", 3_000) == 1
        assert store.expired(c, 2_999, 10) == [] and store.expired(c, 3_001, 10) == [("default", "r1")]
        assert store.claim(c, "default", "r1", "b", now_ms=3_001, lease_ms=9_000) == 2  # a is gone: b takes it
        assert store.claim(c, "default", "r1", "c", now_ms=3_001, lease_ms=9_000) is None  # once
        assert store.renew(c, "a", 10_000) == 0  # a stalled past its lease: it holds nothing any more
        assert not store.finish(c, "default", "r1", "a", "done", "q-a", None)  # and stores nothing
        assert feed_quality.unpack(store.job_records(c, "default", "r1") or b"") == [{"idCard": "x"}]
        assert store.finish(c, "default", "r1", "b", "done", "q-b", "2026-12-07T10:00:00Z")
        stored = store.get_run(c, "default", "r1")
        assert stored is not None
        assert (stored["quality"], stored["quality_run"], stored["quality_taken_up"]) == (
            "done", "q-b", "2026-12-07T10:00:00Z")  # fmt: skip
        assert c.execute(feed_quality_jobs.select()).first() is None
        assert store.claim(c, "default", "r1", "c", now_ms=99_000, lease_ms=100_000) is None  # made: nothing to take


def test_a_run_whose_makers_died_each_time_is_marked_failed_not_taken_up_again(db: Database, tmp_path: Path) -> None:
    _pending_run(db, lease_ms=0, attempts=feed_quality.MAX_ATTEMPTS)  # the feeder and two takers died on it
    rt = _runtime(db.url, tmp_path)
    try:
        assert feed_quality.part(rt).take_up() == 0
        run = datahub.get_feed_run(rt, "default", "r1", limit=0)
        assert (run.quality, run.quality_run) == ("failed", None) and run.quality_taken_up is not None
        with db.connect() as conn:
            assert store.job_records(conn, "default", "r1") is None
    finally:
        rt.close()


def test_a_quality_run_made_after_the_claim_was_lost_is_not_stored(db: Database, tmp_path: Path) -> None:
    _pending_run(db, lease_ms=0)  # "a" stalled: its lease ran out
    rt = _runtime(db.url, tmp_path)
    datahub.load_catalogue(rt, "default")
    with db.begin() as c:
        assert store.claim(c, "default", "r1", "b", now_ms=1, lease_ms=2**62) == 2  # "b" took the run over

    def done(conn: Any, quality_run: str) -> None:  # what "a" does in the quality run's transaction
        if not store.finish(conn, "default", "r1", "a", "done", quality_run, None):
            raise feed_quality.ClaimLost("the claim is b's")

    try:
        assert after_feed(rt, "default", CODE, "r1", "feeder", [{"idCard": "x"}], done) is None
        assert list_runs(rt, "default", feed_run="r1")[1] == 0  # undone with the outcome: no quality run of a's
        assert datahub.get_feed_run(rt, "default", "r1", limit=0).quality == "pending"  # b's to make
    finally:
        rt.close()
