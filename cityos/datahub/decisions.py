"""Access decisions kept per process (per runtime), so that a governed read does not look the entry and the
grants up again each time.

A decision (the entry, what the reader may see of it) is kept under (tenant, entry code, department, scenario,
city) with the governance stamp read before the entry and the grants were (``datahub_governance_stamp``: its
counter is bumped in the same transaction as every entry and grant written, by any process), and until the
first instant at which one of the reader's grants for the entry starts or ends (a grant expires exactly: the
decision is made anew at that instant). Only decisions that allow the read are kept; a refusal is decided anew
each time, so that a grant approved meanwhile counts at once.

A kept decision is trusted until the read's audit append: the append reads the stamp in its transaction, under
the chain's lock, and refuses (``StaleDecision``, nothing written) when it moved; the read is then decided anew
and done again. So a read never returns under a decision older than the last change committed before its audit
record was: revoking a grant is never outrun by a process's memory.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from cityos.datahub.tables import governance_stamp
from cityos.datahub.workflow import instant

if TYPE_CHECKING:
    from cityos.datahub.models import Access, CatalogueEntry, Grant
    from cityos.runtime import Runtime

STAMP_ID = 1
# the row whose counter moves whenever an objection is filed or moved: the open objections a process keeps to
# flag the records it reads (cityos.datahub.objections) are checked against it by each read's audit append
OBJECTIONS_STAMP_ID = 2
KEPT = 4_096  # decisions kept per runtime (emptied when full: a decision costs two queries to make again)


def bump_stamp(conn: Connection, stamp_id: int = STAMP_ID) -> None:
    """Mark, in the caller's transaction, that access decisions (``OBJECTIONS_STAMP_ID``: the open objections)
    may have changed."""
    t = governance_stamp.c
    if not conn.execute(update(governance_stamp).where(t.id == stamp_id).values(n=t.n + 1)).rowcount:
        conn.execute(governance_stamp.insert(), {"id": stamp_id, "n": 1})


def read_stamp(conn: Connection, stamp_id: int = STAMP_ID) -> int:
    """The governance stamp now (``OBJECTIONS_STAMP_ID``: the objections'); 0 before anything was written."""
    return int(conn.execute(select(governance_stamp.c.n).where(governance_stamp.c.id == stamp_id)).scalar() or 0)


class StaleDecision(Exception):
    """The governance stamp moved since the decision a read was made under: decide again (never shown)."""


@dataclass(frozen=True)
class Decided:
    """A reader's access to an entry, and the stamp it was decided under."""

    entry: CatalogueEntry
    access: Access
    stamp: int
    until: float  # ms since the epoch: decided anew from then on (a grant starts or ends); inf: no such instant


Key = tuple[str, str, str | None, str | None, bool]


class Decisions:
    """The decisions a runtime keeps (a part of the runtime: ``rt.parts``)."""

    def __init__(self) -> None:
        self._kept: dict[Key, Decided] = {}
        self._lock = threading.Lock()

    def get(self, key: Key, now_ms: float) -> Decided | None:
        found = self._kept.get(key)
        return found if found is not None and now_ms < found.until else None

    def keep(self, key: Key, decided: Decided) -> None:
        with self._lock:
            if len(self._kept) >= KEPT:
                self._kept.clear()
            self._kept[key] = decided

    def forget(self, key: Key | None = None) -> None:
        with self._lock:
            if key is None:
                self._kept.clear()
            else:
                self._kept.pop(key, None)

    def close(self) -> None:
        self.forget()


def decisions(rt: Runtime) -> Decisions:
    return rt.parts.get(Decisions, Decisions)


def until(grants: list[Grant], now: datetime) -> float:
    """The first instant after ``now`` at which one of ``grants`` starts or ends (ms; inf when none does)."""
    later = [t for g in grants for t in (instant(g.starts_at), instant(g.ends_at)) if t > now]
    return min(later).timestamp() * 1000 if later else math.inf
