"""Usage of the open datasets (issue 19 item 7): views of a dataset's page, downloads of its records and
calls of the API that name it, per day. A count is one addition in memory (:class:`Usage`, a part of the
runtime), so that counting costs a route nothing; the :class:`UsageFlusher` writes the counts in one batch of
upserts every :data:`FLUSH_SECONDS` and when the process stops. A read adds the counts not yet written, so a
page sees its own view at once; with several API processes, each writes its own counts into the same rows."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from cityos.opendata.usage_tables import usage
from cityos.runtime import Runtime

KINDS = ("view", "download", "api")
FLUSH_SECONDS = 5.0
DAYS = 30  # the days a dataset's usage answers
Key = tuple[str, str, str, str]  # tenant, dataset, day, kind


@dataclass(frozen=True)
class DayUse:
    day: str
    view: int
    download: int
    api: int


@dataclass(frozen=True)
class UsageSummary:
    """A dataset's usage: totals of every day kept, and the last :data:`DAYS` days one by one."""

    totals: dict[str, int]
    days: list[DayUse]


class Usage:
    """Counts not yet written, by (tenant, dataset, day, kind)."""

    def __init__(self) -> None:
        self._pending: Counter[Key] = Counter()
        self._lock = threading.Lock()

    def count(self, tenant: str, dataset: str, kind: str, today: str | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"usage is counted as {', '.join(KINDS)}, not {kind!r}")
        key = (tenant, dataset, today or datetime.now(UTC).date().isoformat(), kind)
        with self._lock:
            self._pending[key] += 1

    def take(self) -> Counter[Key]:
        with self._lock:
            taken, self._pending = self._pending, Counter()
        return taken

    def give_back(self, counts: Counter[Key]) -> None:
        """Counts a failed write did not store, to be written with the next batch."""
        with self._lock:
            self._pending.update(counts)

    def pending(self, tenant: str, dataset: str) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter({(d, k): n for (t, s, d, k), n in self._pending.items() if t == tenant and s == dataset})


def usage_of(rt: Runtime) -> Usage:
    return rt.parts.get(Usage, Usage)


def count_use(rt: Runtime, tenant: str, dataset: str, kind: str) -> None:
    """Count one ``kind`` (view, download, api) of the open dataset named ``dataset``; written in the next batch."""
    usage_of(rt).count(tenant, dataset, kind)


def _upsert(conn: Connection, rows: list[dict[str, object]]) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(usage)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant", "dataset", "day", "kind"], set_={"count": usage.c["count"] + stmt.excluded["count"]}
    )
    conn.execute(stmt, rows)


def flush(rt: Runtime) -> int:
    """Write the counts not yet written in one transaction; answers how many rows it touched."""
    part = rt.parts.find(Usage)
    taken = part.take() if part is not None else Counter()
    if not taken:
        return 0
    rows: list[dict[str, object]] = [
        {"tenant": t, "dataset": s, "day": d, "kind": k, "count": n} for (t, s, d, k), n in sorted(taken.items())
    ]
    try:
        with rt.db.write() as conn:
            _upsert(conn, rows)
    except Exception:
        assert part is not None
        part.give_back(taken)
        raise
    return len(rows)


def summary(rt: Runtime, tenant: str, dataset: str, today: date | None = None) -> UsageSummary:
    """The dataset's usage as stored plus the counts of this process not yet written."""
    u = usage.c
    found: Counter[tuple[str, str]] = Counter()
    with rt.db.connect() as conn:
        for day, kind, n in conn.execute(select(u.day, u.kind, u["count"]).where(u.tenant == tenant,
                                                                                  u.dataset == dataset)):  # fmt: skip
            found[(day, kind)] += int(n)
    part = rt.parts.find(Usage)
    if part is not None:
        found.update(part.pending(tenant, dataset))
    totals = {k: sum(n for (_, kind), n in found.items() if kind == k) for k in KINDS}
    last = today or datetime.now(UTC).date()
    days = []
    for back in range(DAYS - 1, -1, -1):
        d = (last - timedelta(days=back)).isoformat()
        days.append(DayUse(d, found[(d, "view")], found[(d, "download")], found[(d, "api")]))
    return UsageSummary(totals, days)


class UsageFlusher:
    """Writes the usage counts every FLUSH_SECONDS in a thread of its own, and the rest when closed."""

    def __init__(self, rt: Runtime, every: float = FLUSH_SECONDS) -> None:
        self.rt, self.every = rt, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="opendata-usage", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                flush(self.rt)
            except Exception:  # the database away for a moment: the counts wait for the next batch
                continue

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        flush(self.rt)
