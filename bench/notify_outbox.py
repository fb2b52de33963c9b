"""Benchmark of the notification outbox's writes alone, as `bench/notify.py` makes them. Prints figures; asserts
nothing.

Each round stores one batch of notifications as the notifier does after matching 50 updates (one for each
update's own subscription, one for the subscription whose receiver never answers), then records the 50 taken by
their receivers as the delivery flusher does; the other 50 stay. The figure is the CPU time of this process
(SQLite runs in it) per update, over --rounds rounds, the median of --runs runs.

It measures the outbox module that Python finds first, so the same command measures two checkouts:
PYTHONPATH=<checkout> .venv/bin/python bench/notify_outbox.py

Run: .venv/bin/python bench/notify_outbox.py [--rounds 400] [--runs 5]
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import tempfile
import time

from cityos.context.subscriptions import outbox
from cityos.store.engine import Database
from cityos.store.migrate import upgrade

UPDATES = 50  # a batch request of bench/notify.py at 2,000 updates/s
ROW_PER_BATCH = len(inspect.signature(outbox.store).parameters) == 3  # store(conn, row_id, items)


def batch(k: int) -> list[outbox.Pending]:
    items = []
    for n in range(UPDATES):
        entity = f"urn:ngsi-ld:Sensor:s{(k * UPDATES + n) % 1000}"
        body = f'{{"id":"{entity}","type":"Sensor","seq":{k * UPDATES + n}}}'
        for sub in (f"urn:ngsi-ld:Subscription:{(k * UPDATES + n) % 1000}", "urn:ngsi-ld:Subscription:hang"):
            nid = outbox.notification_id(f"{k}-{n}", "default", sub)
            items.append(outbox.Pending("default", sub, nid, outbox.next_seq(), entity, body, time.time()))
    return items


def run(db: Database, rounds: int) -> float:
    """CPU seconds per update of ``rounds`` rounds."""
    made = [batch(k) for k in range(rounds)]
    t0 = time.process_time()
    for items in made:
        taken, left = items[0::2], items[1::2]
        if ROW_PER_BATCH:
            row_id = outbox.next_seq()
            db.run_write(lambda conn, row_id=row_id, items=items: outbox.store(conn, row_id, items))  # type: ignore[misc]
            again = outbox.next_seq()  # half done: the row is written again with the rest

            def flush(conn, row_id=row_id, again=again, left=left):  # type: ignore[no-untyped-def]
                outbox.remove(conn, [row_id])
                outbox.store(conn, again, left)

            db.run_write(flush)
        else:
            db.run_write(lambda conn, items=items: outbox.store(conn, items))  # type: ignore[call-arg]
            db.run_write(lambda conn, taken=taken: outbox.remove(conn, [p.key for p in taken]))  # type: ignore[attr-defined]
    return (time.process_time() - t0) / (rounds * UPDATES)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=400)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    figures = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as d:
            db = Database(f"sqlite:///{d}/outbox.db")
            upgrade(db)
            figures.append(run(db, args.rounds))
            db.dispose()
    shape = "one row per batch" if ROW_PER_BATCH else "one row per notification"
    print(f"notification outbox ({shape}), SQLite, {args.rounds} rounds of {UPDATES} updates, {args.runs} runs")
    print(
        f"  CPU an update (2 notifications stored, 1 taken): median {statistics.median(figures) * 1e6:.1f} µs "
        f"(runs {', '.join(f'{f * 1e6:.1f}' for f in figures)}); load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
